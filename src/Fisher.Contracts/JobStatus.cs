namespace Fisher.Contracts;

/// <summary>Progress of one job.</summary>
[GenerateSerializer, Immutable, Alias("fisher.JobStatus")]
public sealed record JobStatus
{
    [Id(0)] public required string JobId { get; init; }
    [Id(1)] public JobState State { get; init; }
    [Id(2)] public JobSpec? Spec { get; init; }

    /// <summary>Inputs of the job (rows), and rows x groups merged so far (of completed tasks only, so it never goes back
    /// when a worker is lost) over rows x groups in all.</summary>
    [Id(3)] public long Inputs { get; init; }
    [Id(4)] public long WorkDone { get; init; }
    [Id(5)] public long WorkTotal { get; init; }

    [Id(6)] public int TasksTotal { get; init; }
    [Id(7)] public int TasksCompleted { get; init; }
    [Id(8)] public int TasksRunning { get; init; }

    /// <summary>Re-dispatches after a lost lease, summed over tasks.</summary>
    [Id(9)] public int Redispatches { get; init; }

    /// <summary>
    /// Tasks handed back by their workers and dispatched again at once (not counted in <see cref="Redispatches"/>): workers
    /// of stopping silos, and workers Orleans deactivated on a silo that stays (their directory partition left with a
    /// stopping silo).
    /// </summary>
    [Id(17)] public int HandedBack { get; init; }

    /// <summary>Starts no worker confirmed within <c>Fisher:Grains:StartTimeout</c> (sent to a stopping silo, say), dispatched again then (not counted in <see cref="Redispatches"/>).</summary>
    [Id(18)] public int StartsLost { get; init; }

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
