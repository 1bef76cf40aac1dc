using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;
using static TorchSharp.torch;

namespace Fisher.Results.Tests;

/// <summary>Results of small jobs made in memory: real estimator moments of a random network, or moments built by hand.</summary>
internal static class Jobs
{
    public static readonly ModelArchitecture Architecture = ModelArchitecture.Parse(
        """{ "widths": [5, 7, 6, 4], "activations": ["tanh", "tanh"], "likelihood": "categorical", "layerNames": ["0", "2", "4"] }""", "test architecture");

    public static JobSpec Spec(string quantities, int draws) => new()
    {
        ModelPath = "/data/model.safetensors", ArchitecturePath = "/data/model.json", InputsPath = "/data/inputs.npy",
        Quantities = FisherQuantityNames.Parse(quantities), DrawsPerInput = draws, Seed = 11, Shards = 1,
    };

    public static JobStatus Status(JobSpec spec, long inputs, int groups) => new()
    {
        JobId = "job-test", State = JobState.Completed, Spec = spec, Inputs = inputs, InputsMerged = inputs, WorkDone = inputs * groups,
        WorkTotal = inputs * groups, TasksTotal = groups, TasksCompleted = groups, Groups = Enumerable.Range(1, groups).Select(g => $"layer{g}").ToArray(),
        StartedAt = new DateTimeOffset(2026, 12, 2, 8, 0, 0, TimeSpan.Zero), FinishedAt = new DateTimeOffset(2026, 12, 2, 8, 0, 3, TimeSpan.Zero),
    };

    /// <summary>The per-layer moments of the estimator on 64 random inputs of the architecture's network, with K draws per input.</summary>
    public static IReadOnlyList<GroupMoments> Estimated(FisherQuantity quantities, int draws)
    {
        Fisher.Estimators.TorchRuntime.Configure(1);
        using var scope = NewDisposeScope();
        using var network = FeedForwardNetwork.CreateRandom(Architecture.Widths, Activation.Parse("tanh"), ScalarType.Float64, seed: 3);
        var estimator = new FisherEstimator(network, Architecture.CreateLikelihood(), new EstimatorOptions { Quantities = quantities, DrawsPerInput = draws, Seed = 11 });
        manual_seed(5);
        var moments = estimator.Estimate(randn(64, 5, dtype: ScalarType.Float64), randint(0, 4, [64], dtype: ScalarType.Int64), 0);
        return network.Layout.Groups(Grouping.PerLayer).Select(g => new GroupMoments(g.Name, 64, ["t"],
            moments.Streams.Where(s => g.Parameters.Any(p => p.Name == s.Key.Parameter))
                .OrderBy(s => s.Key.ToString(), StringComparer.Ordinal).ToDictionary(s => s.Key.ToString(), s => s.Value))).ToArray();
    }

    public static JobResult Assemble(JobSpec spec, IReadOnlyList<GroupMoments> groups) =>
        JobResultAssembler.Assemble(Status(spec, groups[0].Inputs, groups.Count), Architecture, groups);
}
