namespace Fisher.Training;

/// <summary>What a training run reads and how it optimises: the files, Adam's settings and the seed.</summary>
public sealed record TrainOptions
{
    public required string ArchitecturePath { get; init; }
    public required string DataPath { get; init; }
    public required string LabelsPath { get; init; }
    public string? TestDataPath { get; init; }
    public string? TestLabelsPath { get; init; }
    public required string OutFolder { get; init; }
    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 1e-3;
    public ulong Seed { get; init; }

    /// <summary>Training rows to use (0: all).</summary>
    public long Rows { get; init; }
}
