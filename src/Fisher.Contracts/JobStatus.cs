namespace Fisher.Contracts;

/// <summary>Life cycle of a job.</summary>
public enum JobState
{
    /// <summary>No job with this id was started.</summary>
    Unknown = 0,

    /// <summary>Tasks are being processed.</summary>
    Running = 1,

    /// <summary>Every task merged; results can be fetched.</summary>
    Completed = 2,

    /// <summary>A task failed on bad input, or planning failed; <see cref="JobStatus.Error"/> says why.</summary>
    Failed = 3,

    /// <summary>Cancelled by a user.</summary>
    Cancelled = 4,
}

/// <summary>One unit of work: a contiguous row range of the data and one parameter group.</summary>
[GenerateSerializer, Immutable, Alias("fisher.TaskAssignment")]
public sealed record TaskAssignment(
    [property: Id(0)] string JobId,
    [property: Id(1)] string TaskId,
    [property: Id(2)] int Attempt,
    [property: Id(3)] JobSpec Spec,
    [property: Id(4)] long FirstRow,
    [property: Id(5)] long Rows,
    [property: Id(6)] int GroupIndex,
    [property: Id(7)] string GroupName,
    [property: Id(8)] IReadOnlyList<string> Parameters);

/// <summary>A slice of one merged stream (parameter.quantity): count, and mean and M2 for a range of elements.</summary>
[GenerateSerializer, Immutable, Alias("fisher.MomentSlice")]
public sealed record MomentSlice(
    [property: Id(0)] string Key,
    [property: Id(1)] long Count,
    [property: Id(2)] int Offset,
    [property: Id(3)] int Length,
    [property: Id(4)] double[] Mean,
    [property: Id(5)] double[] M2);

/// <summary>One chunk of a task's partial moments; a partial is merged once all its chunks arrived.</summary>
[GenerateSerializer, Immutable, Alias("fisher.PartialChunk")]
public sealed record PartialChunk(
    [property: Id(0)] string TaskId,
    [property: Id(1)] int Attempt,
    [property: Id(2)] int Index,
    [property: Id(3)] int Count,
    [property: Id(4)] long Inputs,
    [property: Id(5)] IReadOnlyList<MomentSlice> Slices);

/// <summary>What an aggregator did with a chunk.</summary>
public enum MergeOutcome
{
    /// <summary>Stored; more chunks of this partial are expected.</summary>
    Pending = 0,

    /// <summary>The partial was complete and is now merged and persisted.</summary>
    Merged = 1,

    /// <summary>This task id was merged before; the chunk is ignored.</summary>
    Duplicate = 2,

    /// <summary>Chunks of this partial are missing (the aggregator restarted); send the partial again from chunk 0.</summary>
    Incomplete = 3,
}

/// <summary>One merged stream of an aggregator.</summary>
[GenerateSerializer, Immutable, Alias("fisher.StreamInfo")]
public sealed record StreamInfo([property: Id(0)] string Key, [property: Id(1)] long Count, [property: Id(2)] int Length);

/// <summary>What an aggregator holds.</summary>
[GenerateSerializer, Immutable, Alias("fisher.AggregateInfo")]
public sealed record AggregateInfo(
    [property: Id(0)] string Group,
    [property: Id(1)] long Inputs,
    [property: Id(2)] IReadOnlyList<string> MergedTasks,
    [property: Id(3)] IReadOnlyList<StreamInfo> Streams);

/// <summary>
/// Precision of one group's estimate: the inputs merged, ‖Î‖₂², and Σ_p of the per-input sample variances
/// (of per-input means when there are several draws per input), from which relative standard errors and
/// sample sizes follow (Fisher.Estimators.Precision).
/// </summary>
[GenerateSerializer, Immutable, Alias("fisher.PrecisionInfo")]
public sealed record PrecisionInfo(
    [property: Id(0)] string Group,
    [property: Id(1)] string Quantity,
    [property: Id(2)] long Inputs,
    [property: Id(3)] double SumOfSquaredEstimates,
    [property: Id(4)] double SumOfPerInputVariances);

/// <summary>Progress of one job.</summary>
[GenerateSerializer, Immutable, Alias("fisher.JobStatus")]
public sealed record JobStatus
{
    [Id(0)] public required string JobId { get; init; }
    [Id(1)] public JobState State { get; init; }
    [Id(2)] public JobSpec? Spec { get; init; }

    /// <summary>Inputs of the job (rows), and rows x groups processed so far over rows x groups in all.</summary>
    [Id(3)] public long Inputs { get; init; }
    [Id(4)] public long WorkDone { get; init; }
    [Id(5)] public long WorkTotal { get; init; }

    [Id(6)] public int TasksTotal { get; init; }
    [Id(7)] public int TasksCompleted { get; init; }
    [Id(8)] public int TasksRunning { get; init; }

    /// <summary>Re-dispatches after a lost lease, summed over tasks.</summary>
    [Id(9)] public int Redispatches { get; init; }

    [Id(10)] public string? Error { get; init; }

    /// <summary>Parameter groups in order (the aggregator of group i has key <c>jobId/i</c>).</summary>
    [Id(11)] public IReadOnlyList<string> Groups { get; init; } = [];

    [Id(12)] public DateTimeOffset StartedAt { get; init; }
    [Id(13)] public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>True when a target relative error was reached before every input was processed.</summary>
    [Id(14)] public bool StoppedEarly { get; init; }

    /// <summary>Inputs merged into every aggregator (all of <see cref="Inputs"/> unless the job stopped early).</summary>
    [Id(15)] public long InputsMerged { get; init; }

    /// <summary>The latest precision check of a job with a target (per group and estimator).</summary>
    [Id(16)] public IReadOnlyList<PrecisionInfo> Precision { get; init; } = [];

    /// <summary>Fraction of the work done, 0..1.</summary>
    public double Fraction => WorkTotal == 0 ? 0 : (double)WorkDone / WorkTotal;

    /// <summary>True when the job will not change any more.</summary>
    public bool IsFinished => State is JobState.Completed or JobState.Failed or JobState.Cancelled;
}
