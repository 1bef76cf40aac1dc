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

    /// <summary>
    /// Whether the job issued a lease for this (task, attempt) that may still be merged: the job runs, the task is
    /// planned and not yet merged or skipped, and the attempt is one the coordinator dispatched. Null: reject the
    /// partial. Interleaves with the coordinator's own calls (it only reads), so an aggregator may ask while the
    /// coordinator waits on that aggregator.
    /// </summary>
    [Alias("AuthorizePartial"), Orleans.Concurrency.AlwaysInterleave]
    Task<PartialLease?> AuthorizePartialAsync(string taskId, int attempt, CancellationToken cancellationToken = default);

    /// <summary>A worker met bad input: the job fails with this message.</summary>
    [Alias("TaskFailed")]
    Task TaskFailedAsync(string taskId, int attempt, string message, CancellationToken cancellationToken = default);
}
