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
