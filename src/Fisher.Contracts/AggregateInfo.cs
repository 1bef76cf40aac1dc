namespace Fisher.Contracts;

/// <summary>What an aggregator holds.</summary>
[GenerateSerializer, Immutable, Alias("fisher.AggregateInfo")]
public sealed record AggregateInfo(
    [property: Id(0)] string Group,
    [property: Id(1)] long Inputs,
    [property: Id(2)] IReadOnlyList<string> MergedTasks,
    [property: Id(3)] IReadOnlyList<StreamInfo> Streams);
