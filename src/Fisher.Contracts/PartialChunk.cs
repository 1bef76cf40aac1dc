namespace Fisher.Contracts;

/// <summary>One chunk of a task's partial moments; a partial is merged once all its chunks arrived.</summary>
[GenerateSerializer, Immutable, Alias("fisher.PartialChunk")]
public sealed record PartialChunk(
    [property: Id(0)] string TaskId,
    [property: Id(1)] int Attempt,
    [property: Id(2)] int Index,
    [property: Id(3)] int Count,
    [property: Id(4)] long Inputs,
    [property: Id(5)] IReadOnlyList<MomentSlice> Slices);
