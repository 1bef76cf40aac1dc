namespace Fisher.Contracts;

/// <summary>A slice of one merged stream (parameter.quantity): count, and mean and M2 for a range of elements.</summary>
[GenerateSerializer, Immutable, Alias("fisher.MomentSlice")]
public sealed record MomentSlice(
    [property: Id(0)] string Key,
    [property: Id(1)] long Count,
    [property: Id(2)] int Offset,
    [property: Id(3)] int Length,
    [property: Id(4)] double[] Mean,
    [property: Id(5)] double[] M2);
