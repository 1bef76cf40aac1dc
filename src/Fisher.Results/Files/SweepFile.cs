using System.Text.Json.Serialization;
using Fisher.Contracts;
using Fisher.Estimators;

namespace Fisher.Results;

/// <summary>sweep.json of <c>fisher sweep</c>: the job settings shared by every checkpoint and one entry per epoch.</summary>
public sealed record SweepFile
{
    public const string FileName = "sweep.json";

    /// <summary>The spec of every checkpoint's job; its model path is the first checkpoint (each job replaces it).</summary>
    public JobSpec? Spec { get; set; }

    /// <summary>The likelihood the jobs used (the spec's override, else the architecture file's).</summary>
    [JsonConverter(typeof(SpecJsonConverter))]
    public LikelihoodFamily Likelihood { get; set; }

    public string Meaning { get; set; } = ResultMeaning.Sweep;
    public IReadOnlyList<SweepEpoch> Epochs { get; set; } = [];
}
