using System.Text.Json.Serialization;
using Fisher.Contracts;
using Fisher.Estimators;

namespace Fisher.Results;

/// <summary>sweep.json of <c>fisher sweep</c>: the job settings shared by every checkpoint and one entry per epoch.</summary>
public sealed record SweepFile
{
    public const string FileName = "sweep.json";

    public string Architecture { get; set; } = "";
    public string Data { get; set; } = "";
    public string? Labels { get; set; }
    [JsonConverter(typeof(SpecJsonConverter))]
    public LikelihoodFamily Likelihood { get; set; }

    /// <summary>The quantities every checkpoint's job computed.</summary>
    [JsonConverter(typeof(SpecJsonConverter))]
    public FisherQuantity Estimators { get; set; }

    public int Draws { get; set; }
    public long FirstInput { get; set; }
    public long Inputs { get; set; }
    [JsonConverter(typeof(SpecJsonConverter))]
    public Grouping Grouping { get; set; }

    public ulong Seed { get; set; }
    [JsonConverter(typeof(SpecJsonConverter))]
    public ComputeDType Precision { get; set; }

    public string Meaning { get; set; } = ResultMeaning.Sweep;
    public IReadOnlyList<SweepEpoch> Epochs { get; set; } = [];
}
