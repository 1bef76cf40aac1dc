using Orleans.Concurrency;

namespace Fisher.Contracts;

/// <summary>
/// The coordinator of one job (key: job id). Plans tasks (shards x parameter groups), dispatches them with
/// bounded concurrency under leases, re-dispatches tasks whose lease expired, and completes the job.
/// </summary>
[Alias("fisher.IFisherJobGrain")]
public interface IFisherJobGrain : IGrainWithStringKey
{
    /// <summary>Validates the spec against the files, plans and starts; idempotent for the same spec.</summary>
    [Alias("Start")]
    Task<JobStatus> Start(JobSpec spec);

    [Alias("GetStatus")]
    Task<JobStatus> GetStatus();

    [Alias("Cancel")]
    Task<JobStatus> Cancel();

    /// <summary>A worker's progress; returns false when the worker should stop (job over, or attempt superseded).</summary>
    [Alias("Heartbeat")]
    Task<bool> Heartbeat(string taskId, int attempt, long rowsDone);

    /// <summary>A worker's partial is merged by its aggregator.</summary>
    [Alias("TaskCompleted")]
    Task TaskCompleted(string taskId, int attempt);

    /// <summary>A worker met bad input: the job fails with this message.</summary>
    [Alias("TaskFailed")]
    Task TaskFailed(string taskId, int attempt, string error);
}

/// <summary>
/// Processes one task (key: <c>jobId/taskId/attempt</c>): loads its model replica and opens its rows once, then
/// advances batch by batch on a timer, off the grain turn, and ships its partial to the aggregator in chunks.
/// </summary>
[Alias("fisher.IShardWorkerGrain")]
public interface IShardWorkerGrain : IGrainWithStringKey
{
    /// <summary>Starts the task and returns at once (one-way: the coordinator never waits on a worker).</summary>
    [OneWay, Alias("Start")]
    Task Start(TaskAssignment assignment);
}

/// <summary>Merges the partials of one job and parameter group (key: <c>jobId/groupIndex</c>), once per task id.</summary>
[Alias("fisher.IMomentsAggregatorGrain")]
public interface IMomentsAggregatorGrain : IGrainWithStringKey
{
    [Alias("AddChunk")]
    Task<MergeOutcome> AddChunk(PartialChunk chunk);

    [Alias("GetInfo")]
    Task<AggregateInfo> GetInfo();

    /// <summary>
    /// Precision of the group's estimate of one quantity (an estimate's key in Fisher.Results' catalog); with several draws per input it
    /// uses the per-input means (<c>i1_input_mean</c>) when they were streamed. Null when the quantity is absent.
    /// </summary>
    [Alias("GetPrecision")]
    Task<PrecisionInfo?> GetPrecision(string quantity);

    /// <summary>Elements [offset, offset+length) of one merged stream.</summary>
    [Alias("Read")]
    Task<MomentSlice> Read(string key, int offset, int length);
}
