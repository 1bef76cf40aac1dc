using Fisher.Contracts;
using Fisher.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.Placement;

namespace Fisher.Grains;

// The dispatch loop of a job: a grain timer that re-dispatches tasks whose lease expired and starts pending ones up to
// the cluster's share (placed by TaskPlacement), the persisted writes it depends on, and the count of active silos.
internal sealed partial class FisherJobGrain
{
    private void StartTimer()
    {
        JobMetrics.Running(this, JobId);
        _timer ??= this.RegisterGrainTimer(Tick, new GrainTimerCreationOptions(_options.DispatchPeriod, _options.DispatchPeriod) { KeepAlive = true });
    }

    private void StopTimer()
    {
        _timer?.Dispose();
        _timer = null;
        JobMetrics.Stopped(this, state.State.State);
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        JobMetrics.Stopped(this, state.State.State);
        return Task.CompletedTask;
    }

    private async Task Tick(CancellationToken cancellation)
    {
        if (state.State.State != JobState.Running)
        {
            StopTimer();
            return;
        }
        var now = DateTimeOffset.UtcNow;
        bool changed = false;
        foreach (var task in state.State.Tasks.Where(t => t.Phase == TaskPhase.Running))
        {
            bool known = _leases.TryGetValue(task.TaskId, out var lease);
            if (known && lease.Until > now)
                continue;
            string silo = lease.Silo?.ToString() ?? "a silo Orleans chose";
            if (known && !lease.Confirmed)
            {
                // No worker adopted the start (a one-way call: it may have reached a silo that was stopping). No worker ran
                // it, so it does not count against MaxTaskAttempts, and that silo gets nothing for a lease's time.
                Log.StartLost(logger, JobId, task.TaskId, task.Attempt, lease.Until - lease.Reported, silo);
                StartLost(task);
                _placement.Lost(task.TaskId, _options.LeaseDuration);
                changed = true;
                continue;
            }
            Log.LeaseExpired(logger, JobId, task.TaskId, task.Attempt, known ? now - lease.Reported : _options.LeaseDuration, silo);
            // Only attempts lost while computing count: a worker that only ships its partial heartbeats once per quarter
            // lease between chunks, and a slow merge must not pass for a task that takes its silo down.
            if (task.AttemptsLost >= _options.MaxTaskAttempts && task.RowsDone < task.Rows)
            {
                // A task that keeps losing its worker may be what takes the silos down: it ends here, and the job's
                // persisted Failed state keeps a restarted cluster from running it again.
                JobMetrics.TaskFailed();
                state.State.State = JobState.Failed;
                int lost = task.AttemptsLost;
                state.State.Error = $"task {task.TaskId} (rows {task.FirstRow}..{task.FirstRow + task.Rows - 1}, group {task.GroupName}) lost its worker "
                    + $"{lost} time{(lost == 1 ? "" : "s")} (the most allowed, Fisher:Grains:MaxTaskAttempts); a task that takes its silo down ends this way";
                state.State.FinishedAt = now;
                StopTimer();
                await Persist();
                return;
            }
            task.Phase = TaskPhase.Pending;
            task.RowsDone = 0;
            state.State.Redispatches++;
            JobMetrics.TaskRedispatched();
            _leases.Remove(task.TaskId);
            _placement.Lost(task.TaskId, _options.LeaseDuration);
            changed = true;
        }
        if (changed)
            await Persist();
        await Dispatch();
        JobMetrics.Progress(this, Status());
    }

    private async Task Dispatch()
    {
        var spec = state.State.Spec!;
        int silos = await ActiveSilos(); // also refreshes where tasks may be placed
        if (!_placement.CanPlace)
            return; // every silo is stopping: pending tasks wait for one that is not
        int limit = spec.MaxConcurrentTasks > 0 ? spec.MaxConcurrentTasks : _options.TasksPerSilo * silos;
        // A running task whose rows are all done is only shipping its partial: it holds no compute slot.
        int running = state.State.Tasks.Count(t => t.Phase == TaskPhase.Running && t.RowsDone < t.Rows);
        var starts = new List<(TaskAssignment Assignment, SiloAddress? Silo)>();
        var now = DateTimeOffset.UtcNow;
        int roundEnd = spec.TargetRelativeError is null ? int.MaxValue : state.State.RoundEnd;
        foreach (var task in state.State.Tasks.Where(t => t.Phase == TaskPhase.Pending && t.Shard < roundEnd))
        {
            if (running >= limit)
                break;
            task.Phase = TaskPhase.Running;
            task.Attempt++;
            task.RowsDone = 0;
            // Each attempt is a new worker grain, placed on the chosen silo by a hint (null: Orleans places it). Until the
            // worker confirms the start (its first report), the attempt holds the task only for the start timeout: a one-way
            // start can be lost without an error (it reached a stopping silo), and Tick then takes it back.
            var silo = _placement.Choose(task.TaskId);
            _leases[task.TaskId] = new AttemptLease(now + ConfirmWithin, Confirmed: false, now, silo);
            starts.Add((new TaskAssignment(JobId, task.TaskId, task.Attempt, spec, task.FirstRow, task.Rows, task.GroupIndex, task.GroupName, task.Parameters.ToArray(), IssueLeaseKey(task)), silo));
            running++;
        }
        if (starts.Count == 0)
            return;
        // Persist the attempt numbers and lease keys before any worker can report with them.
        await Persist();
        foreach (var (start, silo) in starts)
        {
            using var span = JobMetrics.Dispatch(this, start);
            if (silo is not null)
                RequestContext.Set(IPlacementDirector.PlacementHintKey, silo);
            try
            {
                await GrainFactory.GetGrain<IShardWorkerGrain>(ShardWorkerGrain.Key(start)).StartAsync(start); // one-way
            }
            finally
            {
                RequestContext.Remove(IPlacementDirector.PlacementHintKey);
            }
        }
    }

    /// <summary>How long a started attempt waits for its worker's confirmation: the start timeout, or the lease if shorter.</summary>
    private TimeSpan ConfirmWithin => _options.StartTimeout < _options.LeaseDuration ? _options.StartTimeout : _options.LeaseDuration;

    /// <summary>The attempt's start reached no worker: the task is pending again, counted in <see cref="JobGrainState.StartsLost"/>.</summary>
    private void StartLost(TaskRecord task)
    {
        task.Phase = TaskPhase.Pending;
        task.RowsDone = 0;
        task.StartsLost++;
        state.State.StartsLost++;
        JobMetrics.StartLost();
        _leases.Remove(task.TaskId);
    }

    /// <summary>
    /// Writes the job's state. When the store no longer holds what this activation read (Redis restarted without its
    /// data, say), the write fails with <see cref="Orleans.Storage.InconsistentStateException"/>: the activation then ends, so the next
    /// call reads the store afresh and clients learn what it holds (nothing: the job is lost) instead of following a
    /// job that can no longer be persisted.
    /// </summary>
    private async Task Persist()
    {
        try
        {
            await state.WriteStateAsync(CancellationToken.None);
        }
        catch (Orleans.Storage.InconsistentStateException e)
        {
            Log.StateLost(logger, e, JobId);
            StopTimer();
            DeactivateOnIdle();
            throw;
        }
    }

    private async Task<int> ActiveSilos()
    {
        if (DateTimeOffset.UtcNow - _silosCheckedAt < _options.SiloCountPeriod)
            return _placement.SiloCount;
        try
        {
            var hosts = await GrainFactory.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
            _placement.SetSilos(hosts.Keys);
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            Log.SilosNotCounted(logger, e, JobId, _placement.SiloCount);
        }
        _silosCheckedAt = DateTimeOffset.UtcNow;
        return _placement.SiloCount;
    }
}
