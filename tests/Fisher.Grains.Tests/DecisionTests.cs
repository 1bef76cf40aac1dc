using Fisher.Results;
using Fisher.Contracts;
using Fisher.Estimators;
using static TorchSharp.torch;

namespace Fisher.Grains.Tests;

/// <summary>
/// The paper's findings at the level of what a user reads (summary decisions): Î2 has zero label variance in the last
/// layer for every likelihood and activation and in every layer of a ReLU network, so it is the recommended
/// estimator there; Gaussian V1 = 2I²; and the recommendation is the estimator with the lower variance.
/// </summary>
public sealed class DecisionTests
{
    private static IReadOnlyList<GroupMoments> Moments(string likelihood, string activation, int outputs, long seed)
    {
        TorchRuntime.Configure(1);
        using var scope = NewDisposeScope();
        using var network = FeedForwardNetwork.CreateRandom([5, 7, 6, outputs], Activation.Parse(activation), ScalarType.Float64, seed);
        var model = Likelihood.Create(likelihood, outputs, variance: 0.7);
        var estimator = new FisherEstimator(network, model, new EstimatorOptions { Quantities = FisherQuantity.All, DrawsPerInput = 3, Seed = 11 });
        manual_seed(seed);
        var x = randn(64, 5, dtype: ScalarType.Float64);
        var labels = likelihood switch
        {
            "categorical" => randint(0, outputs, [64], dtype: ScalarType.Int64),
            "gaussian" => randn(64, outputs, dtype: ScalarType.Float64),
            "poisson" => randint(0, 4, [64, outputs], dtype: ScalarType.Float64),
            _ => randint(0, 2, [64, outputs], dtype: ScalarType.Float64),
        };
        var moments = estimator.Estimate(x, labels, 0);
        return network.Layout.Groups(Grouping.PerLayer).Select(g => new GroupMoments(g.Name, 64, ["t"],
            moments.Streams.Where(s => g.Parameters.Any(p => p.Name == s.Key.Parameter)).ToDictionary(s => s.Key.ToString(), s => s.Value))).ToArray();
    }

    private static readonly JobSpec Spec = new() { ModelPath = "m", ArchitecturePath = "a", InputsPath = "x" };

    public static TheoryData<string, string, int> Cases()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var likelihood in new[] { "gaussian", "categorical", "bernoulli", "poisson" })
            foreach (var activation in new[] { "tanh", "sigmoid", "softplus", "relu" })
                data.Add(likelihood, activation, likelihood == "categorical" ? 4 : 3);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheLastLayerAndReluNetworksRecommendI2AndEveryDecisionFollowsTheVariances(string likelihood, string activation, int outputs)
    {
        var summary = Moments(likelihood, activation, outputs, seed: 3).Select(g => JobResultAssembler.Summarize(g, Spec.SampleSizeEpsilon(), Spec.Delta)).ToArray();
        Assert.Equal(3, summary.Length);
        foreach (var group in summary)
        {
            var d = group.Decision;
            Assert.Equal(DecisionRule.ClosedFormBasis, d.Basis);
            Assert.Equal(d.LabelVarianceI2 < d.LabelVarianceI1 ? "i2" : "i1", d.Better);
        }
        var last = summary[^1].Decision;
        Assert.Equal(0.0, last.LabelVarianceI2);
        Assert.True(last.LabelVarianceI1 > 0, "V1 of the last layer should be positive");
        Assert.Equal("i2", last.Better);
        if (activation == "relu")
            Assert.All(summary, g => { Assert.Equal(0.0, g.Decision.LabelVarianceI2); Assert.Equal("i2", g.Decision.Better); });
        else
            Assert.True(summary[0].Decision.LabelVarianceI2 > 0, "a smooth hidden layer has label variance in Î2");
    }

    [Theory]
    [InlineData("tanh")]
    [InlineData("relu")]
    public void GaussianV1IsTwiceTheSquaredExactDiagonal(string activation)
    {
        foreach (var group in Moments("gaussian", activation, 3, seed: 5))
        {
            foreach (var (key, v1) in group.Streams.Where(s => s.Key.EndsWith(".v1", StringComparison.Ordinal)))
            {
                var exact = group.Streams[key[..^3] + ".exact"];
                for (int i = 0; i < v1.Length; i++)
                {
                    // mean over inputs of 2 I(θ|x)² = 2 (mean² + M2/n)
                    double expected = 2 * (exact.Mean[i] * exact.Mean[i] + exact.M2[i] / exact.Count);
                    Assert.True(Math.Abs(v1.Mean[i] - expected) <= 1e-10 * Math.Max(expected, 1e-300), $"{key}[{i}]: {v1.Mean[i]} vs 2I² = {expected}");
                }
            }
        }
    }
}
