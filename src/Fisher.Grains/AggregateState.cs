namespace Fisher.Grains;

/// <summary>Persisted state of an aggregator: merged streams and the task ids merged into them.</summary>
[GenerateSerializer, Alias("fisher.AggregateState")]
internal sealed class AggregateState
{
    [Id(0)] public Dictionary<string, StreamState> Streams { get; set; } = [];
    [Id(1)] public HashSet<string> MergedTasks { get; set; } = [];
    [Id(2)] public long Inputs { get; set; }
}
