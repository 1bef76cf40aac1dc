namespace Fisher.Contracts;

// Wire names: a method whose parameters changed gets a new [Alias], never an old one back (a caller of the old
// method must fail to find it, not have its arguments read as other parameters). Retired: Start, GetStatus, Cancel
// (no token), Heartbeat, TaskCompleted, TaskFailed, AuthorizePartial (no lease key); GrainWireTests keeps them retired.
// Orleans ignores a CancellationToken the callee does not take, and hands CancellationToken.None to a callee whose
// caller sent none.

/// <summary>
/// The coordinator of one job (key: job id). Plans tasks (shards x parameter groups), dispatches them with
/// bounded concurrency under leases, re-dispatches tasks whose lease expired, and completes the job.
/// Client calls carry the job's access token (<see cref="SubmitAsync"/> returns it); worker calls carry the lease key
/// of their (task, attempt) (<see cref="TaskAssignment.LeaseKey"/>). A wrong token throws
/// <see cref="JobAccessDeniedException"/>; a wrong lease key is ignored. Either way nothing changes, and the coordinator
/// counts the message in <c>fisher.job.messages.rejected</c>.
/// </summary>
[Alias("fisher.IFisherJobGrain")]
public interface IFisherJobGrain : IGrainWithStringKey
{
    /// <summary>
    /// Validates the spec against the files, plans and starts. The call that creates the job gets its access token;
    /// a later call with the same spec gets the status without a token, one with another spec an error.
    /// </summary>
    [Alias("Submit")]
    Task<JobTicket> SubmitAsync(JobSpec spec, CancellationToken cancellationToken = default);

    /// <summary>The job's state, progress and (when done) its results' location. A job never started is Unknown whatever the token.</summary>
    [Alias("GetStatusWithToken")]
    Task<JobStatus> GetStatusAsync(string token, CancellationToken cancellationToken = default);

    /// <summary>Stops dispatching and tells the workers to stop; the job ends Cancelled unless it had already ended.</summary>
    [Alias("CancelWithToken")]
    Task<JobStatus> CancelAsync(string token, CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether <paramref name="token"/> may read this job's merged results (the job's access token, or the key this
    /// coordinator activation uses with its own aggregators). Interleaves (it only reads), so an aggregator may ask
    /// while the coordinator waits on that aggregator.
    /// </summary>
    [Alias("AuthorizeRead"), Orleans.Concurrency.AlwaysInterleave]
    Task<bool> AuthorizeReadAsync(string token, CancellationToken cancellationToken = default);

    /// <summary>A worker's progress; returns false when the worker should stop (job over, attempt superseded, or a lease key the coordinator did not issue).</summary>
    [Alias("HeartbeatWithLease")]
    Task<bool> HeartbeatAsync(string taskId, int attempt, string leaseKey, long rowsDone, CancellationToken cancellationToken = default);

    /// <summary>A worker's partial is merged by its aggregator.</summary>
    [Alias("TaskCompletedWithLease")]
    Task TaskCompletedAsync(string taskId, int attempt, string leaseKey, CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether the job issued a lease for this (task, attempt), under this key, that may still be merged: the job runs,
    /// the task is planned and not yet merged or skipped, and the attempt is one the coordinator dispatched with this
    /// key. Null: reject the partial. Interleaves with the coordinator's own calls (it only reads), so an aggregator may
    /// ask while the coordinator waits on that aggregator.
    /// </summary>
    [Alias("AuthorizePartialWithLease"), Orleans.Concurrency.AlwaysInterleave]
    Task<PartialLease?> AuthorizePartialAsync(string taskId, int attempt, string leaseKey, CancellationToken cancellationToken = default);

    /// <summary>A worker met bad input: the job fails with this message (only from the current attempt, under its key).</summary>
    [Alias("TaskFailedWithLease")]
    Task TaskFailedAsync(string taskId, int attempt, string leaseKey, string message, CancellationToken cancellationToken = default);

    /// <summary>
    /// A worker gives its task back: its silo is stopping (<paramref name="stoppingSilo"/>, which then gets no task for a
    /// while), or Orleans deactivates it on a silo that stays (null: a grain directory partition left with a stopping
    /// silo, say). The attempt's lease ends now and the task is dispatched again at once (only the current attempt,
    /// under its key; it does not count as lost).
    /// </summary>
    [Alias("TaskHandedBackWithLease")]
    Task TaskHandedBackAsync(string taskId, int attempt, string leaseKey, SiloAddress? stoppingSilo, CancellationToken cancellationToken = default);
}
