namespace Fisher.Grains;

/// <summary>One merged stream: count, mean and M2 per element.</summary>
[GenerateSerializer, Alias("fisher.StreamState")]
internal sealed class StreamState
{
    [Id(0)] public long Count { get; set; }
    [Id(1)] public double[] Mean { get; set; } = [];
    [Id(2)] public double[] M2 { get; set; } = [];
}
