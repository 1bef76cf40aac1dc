namespace Fisher.Grains;

/// <summary>Persisted record of one task.</summary>
[GenerateSerializer, Alias("fisher.TaskRecord")]
internal sealed class TaskRecord
{
    [Id(0)] public string TaskId { get; set; } = "";
    [Id(1)] public long FirstRow { get; set; }
    [Id(2)] public long Rows { get; set; }
    [Id(3)] public int GroupIndex { get; set; }
    [Id(4)] public string GroupName { get; set; } = "";
    [Id(5)] public List<string> Parameters { get; set; } = [];
    [Id(6)] public TaskPhase Phase { get; set; }
    [Id(7)] public int Attempt { get; set; }
    [Id(8)] public long RowsDone { get; set; }
    [Id(9)] public int Shard { get; set; }

    /// <summary>Elements of each of <see cref="Parameters"/> (empty in states persisted before it was recorded).</summary>
    [Id(10)] public List<int> ParameterSizes { get; set; } = [];

    /// <summary>SHA-256 of the lease key of each attempt dispatched, attempt n at index n - 1 (empty: none issued).</summary>
    [Id(11)] public List<byte[]> LeaseKeyHashes { get; set; } = [];

    /// <summary>Attempts handed back by their worker (its silo stopping, or Orleans deactivating it): they were not lost, so they do not count against <c>MaxTaskAttempts</c>.</summary>
    [Id(12)] public int HandedBack { get; set; }

    /// <summary>Attempts whose start never reached a worker (<see cref="FisherOptions.StartTimeout"/>): no worker ran them, so they do not count against <c>MaxTaskAttempts</c>.</summary>
    [Id(13)] public int StartsLost { get; set; }

    /// <summary>Attempts lost while a worker held them (its silo died, say): what <c>MaxTaskAttempts</c> bounds.</summary>
    public int AttemptsLost => Attempt - HandedBack - StartsLost;
}
