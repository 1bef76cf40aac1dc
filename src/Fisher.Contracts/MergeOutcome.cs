namespace Fisher.Contracts;

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

    /// <summary>The job's coordinator did not issue this (task, attempt), or the partial does not fit its lease: never merged.</summary>
    Rejected = 4,
}
