using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;
using Fisher.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fisher.Grains;

/// <summary>
/// Coordinates one job: plans tasks, dispatches at most a bounded number at once under leases, re-dispatches a
/// task whose worker stopped reporting (its silo died, say) with a new attempt, and completes the job when every
/// task's partial is merged. The task table is persisted, so the job survives the loss of this grain's silo:
/// the next call (a worker's report, a client's status poll) reactivates it elsewhere and it carries on.
/// </summary>
// Writes of the job's state take CancellationToken.None: the state has already changed in memory, and a caller that
// gives up must not leave it changed but unpersisted.
internal sealed partial class FisherJobGrain(
    [PersistentState("job", FisherHosting.StorageName)] IPersistentState<JobGrainState> state,
    IOptions<FisherOptions> options,
    DataRoots dataRoots,
    ILogger<FisherJobGrain> logger) : Grain, IFisherJobGrain
{
    private readonly FisherOptions _options = options.Value;
    private readonly Dictionary<string, AttemptLease> _leases = [];
    private IGrainTimer? _timer;
    private readonly TaskPlacement _placement = new();
    private DateTimeOffset _silosCheckedAt = DateTimeOffset.MinValue;

    private string JobId => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.RecordExists && state.State.State == JobState.Running)
        {
            // Leases are not persisted: give every running worker a full lease to report to this activation (whether
            // its start was confirmed is not known here, so it counts as confirmed: a lost one waits for the lease).
            var now = DateTimeOffset.UtcNow;
            foreach (var task in state.State.Tasks.Where(t => t.Phase == TaskPhase.Running))
                _leases[task.TaskId] = new AttemptLease(now + _options.LeaseDuration, Confirmed: true, now, Silo: null);
            StartTimer();
        }
        return Task.CompletedTask;
    }

    public async Task<JobTicket> SubmitAsync(JobSpec spec, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (JobIds.Problem(JobId) is { } problem)
            throw new ArgumentException(problem);
        if (state.RecordExists && state.State.Spec is not null)
        {
            if (state.State.Spec != spec)
                throw new ArgumentException($"job id '{JobId}' is taken by a job with another spec");
            return new JobTicket(Status(), null); // its token went to whoever created it
        }
        var token = Secrets.New(Secrets.TokenBytes);
        JobPlan plan;
        try
        {
            plan = await Task.Run(() => JobPlanner.Plan(spec, dataRoots, _options.MemoryBudget, _options.CostBudget), cancellationToken); // nothing is written before the plan
        }
        catch (JobSpecException e)
        {
            state.State = new JobGrainState { Spec = spec, TokenHash = Secrets.Hash(token), State = JobState.Failed, Error = e.Message, StartedAt = DateTimeOffset.UtcNow, FinishedAt = DateTimeOffset.UtcNow };
            await Persist();
            return new JobTicket(Status(), token);
        }
        state.State = new JobGrainState
        {
            Spec = spec,
            TokenHash = Secrets.Hash(token),
            State = JobState.Running,
            Inputs = plan.Inputs,
            Groups = plan.Groups.Select(g => g.Name).ToList(),
            StartedAt = DateTimeOffset.UtcNow,
            Tasks = plan.Tasks.Select(t => new TaskRecord
            {
                TaskId = t.TaskId, Shard = t.Shard, FirstRow = t.FirstRow, Rows = t.Rows, GroupIndex = t.GroupIndex,
                GroupName = t.GroupName, Parameters = [.. t.Parameters], Phase = TaskPhase.Pending,
                ParameterSizes = [.. plan.Groups[t.GroupIndex].Parameters.Select(p => p.Size)],
            }).ToList(),
        };
        if (spec.TargetRelativeError is not null)
        {
            // Rounds of shards: as many as keep every task slot busy; the target is checked after each round.
            int limit = spec.MaxConcurrentTasks > 0 ? spec.MaxConcurrentTasks : _options.TasksPerSilo * await ActiveSilos();
            state.State.RoundSize = Math.Max(1, limit / Math.Max(1, plan.Groups.Count));
            state.State.RoundEnd = state.State.RoundSize;
        }
        await Persist();
        Log.JobPlanned(logger, JobId, plan.Tasks.Count, plan.Inputs, plan.Groups.Count);
        StartTimer();
        await Dispatch();
        return new JobTicket(Status(), token);
    }

    public async Task<bool> HeartbeatAsync(string taskId, int attempt, string leaseKey, long rowsDone, CancellationToken cancellationToken = default)
    {
        if (state.State.State != JobState.Running || Find(taskId) is not { } task)
            return false;
        if (!Leased(task, attempt, leaseKey))
        {
            JobMetrics.ForgedMessage("heartbeat");
            return false;
        }
        if (task.Phase != TaskPhase.Running || task.Attempt != attempt)
            return false;
        bool computing = task.RowsDone < task.Rows;
        task.RowsDone = Math.Min(rowsDone, task.Rows);
        var reported = DateTimeOffset.UtcNow;
        _leases[taskId] = new AttemptLease(reported + _options.LeaseDuration, Confirmed: true, reported, _leases.GetValueOrDefault(taskId).Silo);
        // Its rows are done: the worker only copies out and ships its partial now, so its compute slot takes the next
        // task at once instead of after the aggregator has merged (that tail was 0.1 s of every round of a 4 s job).
        if (computing && task.RowsDone == task.Rows)
        {
            _placement.Release(taskId);
            await Dispatch();
        }
        return true;
    }

    public Task<PartialLease?> AuthorizePartialAsync(string taskId, int attempt, string leaseKey, CancellationToken cancellationToken = default)
    {
        var lease = state.State.State == JobState.Running && Find(taskId) is { } task && Leased(task, attempt, leaseKey)
            && task.Phase is not (TaskPhase.Done or TaskPhase.Skipped)
            ? new PartialLease(task.TaskId, task.Rows, task.Parameters.ToArray(), task.ParameterSizes.ToArray(),
                JobPlanner.Resolve(state.State.Spec!).Quantities.Split().Select(q => q.Key()).ToArray())
            : null;
        if (lease is null)
            JobMetrics.ForgedMessage("partial");
        return Task.FromResult(lease);
    }

    public async Task TaskCompletedAsync(string taskId, int attempt, string leaseKey, CancellationToken cancellationToken = default)
    {
        if (Find(taskId) is not { } task || task.Phase == TaskPhase.Done)
            return;
        // Only a merge the group's aggregator holds completes a task: a job completes when the merged set is its plan.
        var aggregator = GrainFactory.GetGrain<IMomentsAggregatorGrain>(PartialShipper.AggregatorKey(JobId, task.GroupIndex));
        if (!Leased(task, attempt, leaseKey) || !await aggregator.HasMergedAsync(taskId, CancellationToken.None))
        {
            JobMetrics.ForgedMessage("completion");
            return;
        }
        if (task.Phase == TaskPhase.Done)
            return; // completed by another attempt while this one asked the aggregator
        // Any attempt's partial is the same (label draws are a function of the global index), and the aggregator
        // merged this task id exactly once, so the first completion wins.
        task.Phase = TaskPhase.Done;
        task.RowsDone = task.Rows;
        JobMetrics.TaskCompleted(task.GroupName);
        _leases.Remove(taskId);
        _placement.Release(taskId);
        if (state.State.State == JobState.Running && state.State.Spec!.TargetRelativeError is not null)
            await CheckTarget();
        if (state.State.State == JobState.Running && state.State.Tasks.All(t => t.Phase is TaskPhase.Done or TaskPhase.Skipped))
        {
            state.State.State = JobState.Completed;
            state.State.FinishedAt = DateTimeOffset.UtcNow;
            StopTimer();
            Log.JobCompleted(logger, JobId);
        }
        await Persist();
        if (state.State.State == JobState.Running)
            await Dispatch();
    }

    public async Task TaskFailedAsync(string taskId, int attempt, string leaseKey, string message, CancellationToken cancellationToken = default)
    {
        if (state.State.State != JobState.Running || Find(taskId) is not { } task)
            return;
        if (task.Phase != TaskPhase.Running || task.Attempt != attempt || !Leased(task, attempt, leaseKey))
        {
            JobMetrics.ForgedMessage("failure"); // only the current attempt of a running task can fail its job
            return;
        }
        JobMetrics.TaskFailed();
        state.State.State = JobState.Failed;
        state.State.Error = $"task {taskId} (rows {task.FirstRow}..{task.FirstRow + task.Rows - 1}, group {task.GroupName}): {message}";
        state.State.FinishedAt = DateTimeOffset.UtcNow;
        StopTimer();
        await Persist();
    }

    public async Task TaskHandedBackAsync(string taskId, int attempt, string leaseKey, SiloAddress? stoppingSilo, CancellationToken cancellationToken = default)
    {
        if (state.State.State != JobState.Running || Find(taskId) is not { } task)
            return;
        if (!Leased(task, attempt, leaseKey))
        {
            JobMetrics.ForgedMessage("handback");
            return;
        }
        // A worker that only ships hands back too when Orleans takes it away: it will not complete, and if its partial was
        // merged already, the next attempt's is a duplicate that completes the task.
        if (task.Phase != TaskPhase.Running || task.Attempt != attempt)
            return; // superseded already (its lease expired and another attempt runs)
        task.Phase = TaskPhase.Pending;
        task.RowsDone = 0;
        task.HandedBack++;
        state.State.HandedBack++;
        JobMetrics.TaskHandedBack();
        _leases.Remove(taskId);
        _placement.Release(taskId);
        if (stoppingSilo is not null)
        {
            _placement.Stopping(stoppingSilo, _options.LeaseDuration); // place nothing there while it leaves the membership
            _silosCheckedAt = DateTimeOffset.MinValue; // and count the silos afresh: one may have joined (a rolling update's new pod)
            Log.TaskHandedBack(logger, JobId, taskId, attempt, stoppingSilo.ToString());
        }
        else
        {
            Log.TaskHandedBackDeactivated(logger, JobId, taskId, attempt);
        }
        await Persist();
        await Dispatch();
    }

    /// <summary>
    /// After a round of shards is merged in every group: stop when every group's requested estimates reach the
    /// target (Chebyshev, §7.1), else open the next round.
    /// </summary>
    private async Task CheckTarget()
    {
        var s = state.State;
        if (s.Tasks.Any(t => t.Shard < s.RoundEnd && t.Phase != TaskPhase.Done))
            return;
        var spec = s.Spec!;
        var (quantities, _) = JobPlanner.Resolve(spec);
        var checks = new List<PrecisionInfo>();
        for (int g = 0; g < s.Groups.Count; g++)
        {
            var aggregator = GrainFactory.GetGrain<IMomentsAggregatorGrain>(PartialShipper.AggregatorKey(JobId, g));
            foreach (var quantity in JobPlanner.TargetQuantities(quantities))
            {
                if (await aggregator.GetPrecisionAsync(_readKey, quantity) is { } info)
                    checks.Add(info with { Group = s.Groups[g] });
            }
        }
        s.Precision = checks;
        bool reached = checks.Count > 0 && checks.All(c =>
            new Precision(c.Inputs, c.SumOfSquaredEstimates, c.SumOfPerInputVariances).Reaches(spec.TargetRelativeError!.Value, spec.Delta));
        if (reached)
        {
            foreach (var t in s.Tasks.Where(t => t.Phase == TaskPhase.Pending))
                t.Phase = TaskPhase.Skipped;
            s.StoppedEarly = s.Tasks.Any(t => t.Phase == TaskPhase.Skipped);
            Log.TargetReached(logger, JobId, s.RoundEnd);
        }
        else
        {
            s.RoundEnd += s.RoundSize;
        }
    }

    private TaskRecord? Find(string taskId) => state.State.Tasks.Find(t => t.TaskId == taskId);

    private JobStatus Status()
    {
        var s = state.State;
        if (s.Spec is null)
            return new JobStatus { JobId = JobId, State = JobState.Unknown };
        return new JobStatus
        {
            JobId = JobId,
            State = s.State,
            Spec = s.Spec,
            Inputs = s.Inputs,
            WorkDone = s.Tasks.Where(t => t.Phase == TaskPhase.Done).Sum(t => t.Rows), // merged only: a lost attempt's rows never count
            WorkTotal = s.Tasks.Where(t => t.Phase != TaskPhase.Skipped).Sum(t => t.Rows),
            TasksTotal = s.Tasks.Count,
            TasksCompleted = s.Tasks.Count(t => t.Phase == TaskPhase.Done),
            TasksRunning = s.Tasks.Count(t => t.Phase == TaskPhase.Running),
            Redispatches = s.Redispatches,
            HandedBack = s.HandedBack,
            StartsLost = s.StartsLost,
            Error = s.Error,
            Groups = s.Groups.ToArray(),
            StartedAt = s.StartedAt,
            FinishedAt = s.FinishedAt,
            StoppedEarly = s.StoppedEarly,
            InputsMerged = s.Tasks.Where(t => t.GroupIndex == 0 && t.Phase == TaskPhase.Done).Sum(t => t.Rows),
            Precision = s.Precision.ToArray(),
        };
    }

    /// <summary>The coordinator's log events (source-generated).</summary>
    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Job {Job}: {Tasks} tasks over {Inputs} inputs and {Groups} groups")]
        public static partial void JobPlanned(ILogger logger, string job, int tasks, long inputs, int groups);

        [LoggerMessage(2, LogLevel.Information, "Job {Job} completed")]
        public static partial void JobCompleted(ILogger logger, string job);

        [LoggerMessage(3, LogLevel.Information, "Job {Job}: target relative error reached after {Rounds} shards")]
        public static partial void TargetReached(ILogger logger, string job, int rounds);

        [LoggerMessage(4, LogLevel.Warning, "Job {Job}: task {Task} attempt {Attempt} lost its lease (last report {Silent} ago, started on {Silo}); re-dispatching")]
        public static partial void LeaseExpired(ILogger logger, string job, string task, int attempt, TimeSpan silent, string silo);

        [LoggerMessage(9, LogLevel.Warning, "Job {Job}: task {Task} attempt {Attempt} was not confirmed by a worker within {Timeout} (sent to {Silo}); dispatching it again")]
        public static partial void StartLost(ILogger logger, string job, string task, int attempt, TimeSpan timeout, string silo);

        [LoggerMessage(5, LogLevel.Information, "Job {Job}: could not count silos; keeping {Silos}")]
        public static partial void SilosNotCounted(ILogger logger, Exception exception, string job, int silos);

        [LoggerMessage(7, LogLevel.Information, "Job {Job}: task {Task} attempt {Attempt} handed back by stopping silo {Silo}; dispatching it again")]
        public static partial void TaskHandedBack(ILogger logger, string job, string task, int attempt, string silo);

        [LoggerMessage(10, LogLevel.Information, "Job {Job}: task {Task} attempt {Attempt} handed back by its worker, which Orleans deactivated; dispatching it again")]
        public static partial void TaskHandedBackDeactivated(ILogger logger, string job, string task, int attempt);

        [LoggerMessage(6, LogLevel.Error, "Job {Job}: the state store no longer holds this job's state as it was read; deactivating")]
        public static partial void StateLost(ILogger logger, Exception exception, string job);
    }
}

/// <summary>
/// A running attempt as one coordinator activation sees it (in memory; not persisted): held until <paramref name="Until"/>;
/// <paramref name="Confirmed"/> once its worker reported (it adopts the task with a report of no rows); its last report
/// (or its start) at <paramref name="Reported"/>; started on <paramref name="Silo"/> (null: Orleans placed it, or unknown).
/// </summary>
internal readonly record struct AttemptLease(DateTimeOffset Until, bool Confirmed, DateTimeOffset Reported, SiloAddress? Silo);
