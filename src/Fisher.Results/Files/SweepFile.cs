namespace Fisher.Results;

/// <summary>sweep.json of <c>fisher sweep</c>: the job settings shared by every checkpoint and one entry per epoch.</summary>
public sealed record SweepFile
{
    public const string FileName = "sweep.json";

    public string Architecture { get; set; } = "";
    public string Data { get; set; } = "";
    public string? Labels { get; set; }
    public string Likelihood { get; set; } = "";
    public string Estimators { get; set; } = "";
    public int Draws { get; set; }
    public long FirstInput { get; set; }
    public long Inputs { get; set; }
    public string Grouping { get; set; } = "";
    public ulong Seed { get; set; }
    public string Precision { get; set; } = "";
    public string Meaning { get; set; } = ResultMeaning.Sweep;
    public IReadOnlyList<SweepEpoch> Epochs { get; set; } = [];
}
