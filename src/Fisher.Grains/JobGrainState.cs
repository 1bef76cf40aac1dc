using Fisher.Contracts;

namespace Fisher.Grains;

/// <summary>Persisted state of a job.</summary>
[GenerateSerializer, Alias("fisher.JobGrainState")]
internal sealed class JobGrainState
{
    [Id(0)] public JobSpec? Spec { get; set; }
    [Id(1)] public JobState State { get; set; }
    [Id(2)] public List<TaskRecord> Tasks { get; set; } = [];
    [Id(3)] public List<string> Groups { get; set; } = [];
    [Id(4)] public long Inputs { get; set; }
    [Id(5)] public string? Error { get; set; }
    [Id(6)] public DateTimeOffset StartedAt { get; set; }
    [Id(7)] public DateTimeOffset? FinishedAt { get; set; }
    [Id(8)] public int Redispatches { get; set; }

    /// <summary>With a target: tasks of shards below this may run (a round is a block of shards).</summary>
    [Id(9)] public int RoundEnd { get; set; }
    [Id(10)] public int RoundSize { get; set; }
    [Id(11)] public bool StoppedEarly { get; set; }
    [Id(12)] public List<PrecisionInfo> Precision { get; set; } = [];

    /// <summary>SHA-256 of the job's access token (null in states persisted before tokens: nobody can read such a job).</summary>
    [Id(13)] public byte[]? TokenHash { get; set; }

    /// <summary>Tasks handed back by their workers: of stopping silos (<see cref="SiloDrain"/>), or deactivated by Orleans.</summary>
    [Id(14)] public int HandedBack { get; set; }

    /// <summary>Starts whose worker never confirmed them within <see cref="FisherOptions.StartTimeout"/>.</summary>
    [Id(15)] public int StartsLost { get; set; }
}
