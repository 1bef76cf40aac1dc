using Orleans.Concurrency;

namespace Fisher.Contracts;

// The [Alias] of each method keeps the wire name it had before the methods gained their Async suffix and
// CancellationToken: silos and clients of either version still understand each other (Orleans ignores a token the
// callee does not take, and hands CancellationToken.None to a callee whose caller sent none).

/// <summary>
/// The coordinator of one job (key: job id). Plans tasks (shards x parameter groups), dispatches them with
/// bounded concurrency under leases, re-dispatches tasks whose lease expired, and completes the job.
/// </summary>
[Alias("fisher.IFisherJobGrain")]
public interface IFisherJobGrain : IGrainWithStringKey
{
    /// <summary>Validates the spec against the files, plans and starts; idempotent for the same spec.</summary>
    [Alias("Start")]
    Task<JobStatus> StartAsync(JobSpec spec, CancellationToken cancellationToken = default);

    /// <summary>The job's state, progress and (when done) its results' location.</summary>
    [Alias("GetStatus")]
    Task<JobStatus> GetStatusAsync(CancellationToken cancellationToken = default);

    /// <summary>Stops dispatching and tells the workers to stop; the job ends Cancelled unless it had already ended.</summary>
    [Alias("Cancel")]
    Task<JobStatus> CancelAsync(CancellationToken cancellationToken = default);

    /// <summary>A worker's progress; returns false when the worker should stop (job over, or attempt superseded).</summary>
    [Alias("Heartbeat")]
    Task<bool> HeartbeatAsync(string taskId, int attempt, long rowsDone, CancellationToken cancellationToken = default);

    /// <summary>A worker's partial is merged by its aggregator.</summary>
    [Alias("TaskCompleted")]
    Task TaskCompletedAsync(string taskId, int attempt, CancellationToken cancellationToken = default);

    /// <summary>A worker met bad input: the job fails with this message.</summary>
    [Alias("TaskFailed")]
    Task TaskFailedAsync(string taskId, int attempt, string message, CancellationToken cancellationToken = default);
}

/// <summary>
/// Processes one task (key: <c>jobId/taskId/attempt</c>): loads its model replica and opens its rows once, then
/// advances batch by batch on a timer, off the grain turn, and ships its partial to the aggregator in chunks.
/// </summary>
[Alias("fisher.IShardWorkerGrain")]
public interface IShardWorkerGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts the task and returns at once (one-way: the coordinator never waits on a worker). Orleans accepts a token
    /// here, but on a one-way call it can only stop a call not yet sent: there is no reply to wait for, so nothing for
    /// a later cancellation to act on. The worker stops when its heartbeat is refused, not through this token.
    /// </summary>
    [OneWay, Alias("Start")]
    Task StartAsync(TaskAssignment assignment, CancellationToken cancellationToken = default);
}

/// <summary>Merges the partials of one job and parameter group (key: <c>jobId/groupIndex</c>), once per task id.</summary>
[Alias("fisher.IMomentsAggregatorGrain")]
public interface IMomentsAggregatorGrain : IGrainWithStringKey
{
    /// <summary>Adds one chunk of a task's partial; the task's last chunk merges it (once per task id).</summary>
    [Alias("AddChunk")]
    Task<MergeOutcome> AddChunkAsync(PartialChunk chunk, CancellationToken cancellationToken = default);

    /// <summary>What the group's merged state holds: tasks merged, inputs, streams and their lengths.</summary>
    [Alias("GetInfo")]
    Task<AggregateInfo> GetInfoAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Precision of the group's estimate of one quantity (an estimate's key in Fisher.Results' catalog); with several draws per input it
    /// uses the per-input means (<c>i1_input_mean</c>) when they were streamed. Null when the quantity is absent.
    /// </summary>
    [Alias("GetPrecision")]
    Task<PrecisionInfo?> GetPrecisionAsync(string quantity, CancellationToken cancellationToken = default);

    /// <summary>Elements [offset, offset+length) of one merged stream.</summary>
    [Alias("Read")]
    Task<MomentSlice> ReadAsync(string key, int offset, int length, CancellationToken cancellationToken = default);
}
