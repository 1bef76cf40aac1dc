namespace Fisher.Results;

/// <summary>One checkpoint of a sweep in sweep.json: its job, result folder, training metrics and groups.</summary>
public sealed record SweepEpoch
{
    public int Epoch { get; set; }
    public string Checkpoint { get; set; } = "";
    public string JobId { get; set; } = "";

    /// <summary>The epoch's result folder (absolute).</summary>
    public string Results { get; set; } = "";

    public double? Seconds { get; set; }
    public double? TrainLoss { get; set; }
    public double? TrainAccuracy { get; set; }
    public double? TestLoss { get; set; }
    public double? TestAccuracy { get; set; }
    public IReadOnlyList<SweepGroup> Groups { get; set; } = [];
}
