using Fisher.Contracts;
using Fisher.Data;
using Fisher.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fisher.Grains;

/// <summary>
/// Runs one task attempt. A grain timer advances it one slice at a time; each slice's tensor work runs on a compute
/// thread, and the grain reports progress between slices, so no call or turn lasts long. The next slice starts before
/// the progress report of the last one, so the compute thread never waits for the grain (a report that ends the task
/// costs at most one slice of wasted work). When its rows are done it ships the partial moments to the group's
/// aggregator in chunks, then tells the coordinator. On a stopping silo (<see cref="SiloDrain"/>) it hands its task back
/// to the coordinator instead, which dispatches it again elsewhere at once.
/// </summary>
// The coordinator chooses each attempt's silo (TaskPlacement, as a placement hint); without a hint, activation count.
[Orleans.Placement.ActivationCountBasedPlacement]
internal sealed partial class ShardWorkerGrain(IOptions<FisherOptions> options, DataRoots dataRoots, ComputeThreads computeThreads, SiloDrain drain, ILogger<ShardWorkerGrain> logger)
    : Grain, IShardWorkerGrain
{
    private readonly FisherOptions _options = options.Value;
    private TaskAssignment? _task;
    private ShardComputation? _compute;
    private IGrainTimer? _timer;
    private Task<bool>? _slice; // the slice in flight, started before the previous one was reported
    private bool _stopped;
    private bool _holding; // counted in the silo's drain from adoption until the worker stops
    private WorkerMetrics.TaskTelemetry? _telemetry;

    /// <summary>The key of the worker of one task attempt.</summary>
    public static string Key(TaskAssignment task) => $"{task.JobId}/{task.TaskId}/{task.Attempt}";

    public async Task StartAsync(TaskAssignment assignment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        if (_task is not null)
            return; // a duplicate delivery of the adopted attempt (or another assignment: the adopted one was confirmed)
        // Only an assignment the coordinator confirms is taken: one sent by anyone else (to fill this attempt's worker
        // before the coordinator's assignment arrives, say) is dropped and leaves the worker free for the real one.
        if (Key(assignment) != this.GetPrimaryKeyString())
            JobMetrics.ForgedMessage("assignment"); // another attempt's (or job's) assignment sent to this worker
        if (Key(assignment) != this.GetPrimaryKeyString() || !await IsIssuedAsync(assignment)) // the coordinator counts a wrong key
        {
            Log.AssignmentRefused(logger, assignment.TaskId, assignment.JobId);
            return;
        }
        _task = assignment;
        _holding = true;
        drain.Hold();
        _telemetry = WorkerMetrics.TaskStarted(assignment);
        _timer = this.RegisterGrainTimer(Step, new GrainTimerCreationOptions(TimeSpan.Zero, TimeSpan.FromMilliseconds(1)) { KeepAlive = true });
    }

    /// <summary>Whether the job's coordinator issued this attempt under its lease key (a first heartbeat, of no rows).</summary>
    private async Task<bool> IsIssuedAsync(TaskAssignment assignment)
    {
        try
        {
            return await GrainFactory.GetGrain<IFisherJobGrain>(assignment.JobId)
                .HeartbeatAsync(assignment.TaskId, assignment.Attempt, assignment.LeaseKey, 0, CancellationToken.None);
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            // The coordinator is moving: start, and let the first progress report (same check) decide.
            Log.TransientFailure(logger, e, assignment.TaskId, assignment.JobId);
            return true;
        }
    }

    private async Task Step(CancellationToken cancellation)
    {
        if (_stopped || _task is not { } task)
            return;
        var coordinator = GrainFactory.GetGrain<IFisherJobGrain>(task.JobId);
        if (drain.Draining && !(_compute is { } computed && computed.RowsDone >= task.Rows))
        {
            // Still computing: hand it back. A task whose rows are done (its shipping failed and is retried) ships instead.
            await HandBack(task, "silo stopping", siloStopping: true, CancellationToken.None);
            return;
        }
        try
        {
            if (_compute is null)
                CrashOnTestFault(task);
            _compute ??= await computeThreads.Run(() => new ShardComputation(task, _options.TorchThreads, dataRoots), cancellation);
            var compute = _compute;
            var slice = _slice ?? computeThreads.Run(() => compute.Advance(_options.WorkerSlice), cancellation);
            _slice = null;
            var done = await slice;
            long rowsDone = compute.RowsDone;
            if (!done) // without this tick's token: a later tick awaits it, and Stop waits for it before freeing the replica
                _slice = computeThreads.Run(() => compute.Advance(_options.WorkerSlice), CancellationToken.None);
            if (!await coordinator.HeartbeatAsync(task.TaskId, task.Attempt, task.LeaseKey, rowsDone, cancellation))
            {
                await Stop();
                return;
            }
            if (!done)
                return;
            var moments = await computeThreads.Run(compute.Result, cancellation);
            using var ship = WorkerMetrics.Shipping(_telemetry, task);
            // A shipment that outlasts a quarter of the lease (a large partial on a busy silo) keeps it with heartbeats.
            if (await PartialShipper.Ship(GrainFactory, task, moments, _options.ChunkElements, cancellation,
                    () => coordinator.HeartbeatAsync(task.TaskId, task.Attempt, task.LeaseKey, task.Rows, cancellation), _options.LeaseDuration / 4))
                await coordinator.TaskCompletedAsync(task.TaskId, task.Attempt, task.LeaseKey, cancellation);
            await Stop();
        }
        catch (JobSpecException e)
        {
            Log.InputRejected(logger, task.TaskId, task.JobId, e.Message);
            await Stop();
            await coordinator.TaskFailedAsync(task.TaskId, task.Attempt, task.LeaseKey, e.Message, CancellationToken.None);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            await Stop();
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            // Transient: the next tick tries again; if this silo is unhealthy, the lease expires and the task moves.
            Log.TransientFailure(logger, e, task.TaskId, task.JobId);
            WorkerMetrics.Retry("transient");
        }
        catch (Exception e)
        {
            // Anything else (a native torch error, say) would fail again on every attempt: after a few tries the
            // job fails with the message instead of being re-dispatched forever.
            Log.UnexpectedFailure(logger, e, task.TaskId, task.JobId, _failures + 1);
            WorkerMetrics.Retry("error");
            // The failure may have hit a batch half-merged: the retry starts the task over from its first row on a new
            // replica rather than count part of that batch twice.
            await DisposeCompute();
            if (++_failures >= MaxUnexpectedFailures)
            {
                await Stop();
                await coordinator.TaskFailedAsync(task.TaskId, task.Attempt, task.LeaseKey, $"{e.GetType().Name}: {e.Message}", CancellationToken.None);
            }
        }
    }

    /// <summary>The test fault <see cref="TestFaults.CrashOnInputsNamed"/> (only ever set in a test run): ends this silo's process.</summary>
    private void CrashOnTestFault(TaskAssignment task)
    {
        if (_options.TestFaults.CrashOnInputsNamed is { Length: > 0 } poison && Path.GetFileName(task.Spec.InputsPath) == poison)
            Environment.FailFast($"test fault (Fisher:Grains:TestFaults:CrashOnInputsNamed): task {task.TaskId} of job {task.JobId} reads {poison}");
    }

    private const int MaxUnexpectedFailures = 3;
    private int _failures;

    private async Task Stop()
    {
        _stopped = true;
        _timer?.Dispose();
        _timer = null;
        await DisposeCompute();
        _telemetry?.Dispose();
        Release();
        DeactivateOnIdle();
    }

    /// <summary>
    /// Gives the task back to its coordinator, which ends this attempt's lease and dispatches the task again on another
    /// silo at once, then stops. If the coordinator cannot be told (it is moving), the lease expires as after a crash.
    /// </summary>
    private async Task HandBack(TaskAssignment task, string why, bool siloStopping, CancellationToken cancellation)
    {
        _stopped = true;
        _timer?.Dispose();
        _timer = null;
        try
        {
            await GrainFactory.GetGrain<IFisherJobGrain>(task.JobId)
                .TaskHandedBackAsync(task.TaskId, task.Attempt, task.LeaseKey, siloStopping ? GrainContext.Address.SiloAddress : null, cancellation);
            Log.HandedBack(logger, task.TaskId, task.JobId, why);
        }
        catch (Exception e) when (e is TimeoutException or OrleansException or OperationCanceledException)
        {
            Log.HandBackFailed(logger, e, task.TaskId, task.JobId);
        }
        finally
        {
            await Stop();
        }
    }

    /// <summary>Counts the task out of the silo's drain, once.</summary>
    private void Release()
    {
        if (_holding)
        {
            _holding = false;
            drain.Released();
        }
    }

    /// <summary>Frees the replica and rows once no slice runs on them any more.</summary>
    private async Task DisposeCompute()
    {
        if (_slice is { } slice)
        {
            _slice = null;
            try
            {
                await slice;
            }
            catch (Exception e)
            {
                // The task is over: its last slice's outcome no longer matters.
                Log.SliceFailedAfterStop(logger, e);
            }
        }
        _compute?.Dispose();
        _compute = null;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // Orleans takes this worker away while it holds its task: its silo stops, or (on a silo that stays) the grain
        // directory partition that held its registration left with a stopping silo, which deactivates it. Hand the task
        // back now, within the deactivation's time, instead of leaving it to wait for its lease. A deactivation for a
        // failure of the activation itself lets the lease decide, so a task that keeps losing workers counts.
        if (!_stopped && _task is { } task && !IsFailure(reason.ReasonCode))
        {
            bool stopping = drain.Draining || reason.ReasonCode == DeactivationReasonCode.ShuttingDown;
            await HandBack(task, $"deactivated: {reason.ReasonCode}", stopping, cancellationToken);
            return;
        }
        _timer?.Dispose();
        await DisposeCompute();
        _telemetry?.Dispose();
        Release();
    }

    /// <summary>Deactivations for a failure of the activation itself (as opposed to the cluster moving it).</summary>
    private static bool IsFailure(DeactivationReasonCode code) => code is DeactivationReasonCode.ActivationFailed
        or DeactivationReasonCode.ActivationUnresponsive or DeactivationReasonCode.ApplicationError;

    /// <summary>The worker's log events (source-generated).</summary>
    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Task {Task} of job {Job} failed on its input: {Error}")]
        public static partial void InputRejected(ILogger logger, string task, string job, string error);

        [LoggerMessage(2, LogLevel.Information, "Task {Task} of job {Job}: transient failure, retrying")]
        public static partial void TransientFailure(ILogger logger, Exception exception, string task, string job);

        [LoggerMessage(3, LogLevel.Error, "Task {Task} of job {Job}: unexpected failure {Count}")]
        public static partial void UnexpectedFailure(ILogger logger, Exception exception, string task, string job, int count);

        [LoggerMessage(4, LogLevel.Debug, "Slice in flight ended with an error after its task stopped")]
        public static partial void SliceFailedAfterStop(ILogger logger, Exception exception);

        [LoggerMessage(5, LogLevel.Warning, "Task {Task} of job {Job}: refused an assignment its coordinator did not issue")]
        public static partial void AssignmentRefused(ILogger logger, string task, string job);

        [LoggerMessage(6, LogLevel.Information, "Task {Task} of job {Job} handed back to its coordinator ({Why})")]
        public static partial void HandedBack(ILogger logger, string task, string job, string why);

        [LoggerMessage(7, LogLevel.Warning, "Task {Task} of job {Job}: could not hand it back; its lease will expire")]
        public static partial void HandBackFailed(ILogger logger, Exception exception, string task, string job);
    }
}
