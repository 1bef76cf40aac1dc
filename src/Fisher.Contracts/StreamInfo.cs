namespace Fisher.Contracts;

/// <summary>One merged stream of an aggregator.</summary>
[GenerateSerializer, Immutable, Alias("fisher.StreamInfo")]
public sealed record StreamInfo([property: Id(0)] string Key, [property: Id(1)] long Count, [property: Id(2)] int Length);
