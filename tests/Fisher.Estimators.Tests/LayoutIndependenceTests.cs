using Xunit;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests;

/// <summary>
/// Acceptance 3: the k-th label of input n is a pure function of (seed, n, k) whatever batch holds the input, and
/// the moments of a dataset do not depend on the batch size.
/// </summary>
public sealed class LayoutIndependenceTests
{
    [Theory]
    [InlineData("categorical", 10)]
    [InlineData("gaussian", 3)]
    [InlineData("bernoulli", 4)]
    [InlineData("poisson", 2)]
    public void LabelsDependOnlyOnSeedIndexAndDraw(string likelihoodName, int outputs)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        using var network = FeedForwardNetwork.CreateRandom([5, 8, outputs], Activation.Tanh, ScalarType.Float64, seed: 3);
        var likelihood = Likelihood.Create(likelihoodName, outputs, 0.5);
        var x = randn(new long[] { 60, 5 }, ScalarType.Float64, generator: new Generator(9));
        var f = network.Forward(x);
        var whole = LabelDraws.Sample(likelihood, f, seed: 42, firstIndex: 1000, draws: 3).to(ScalarType.Float64);
        // The same inputs in batches of other sizes and starts, and one at a time.
        foreach (int size in new[] { 1, 7, 13, 60 })
        {
            for (int start = 0; start < 60; start += size)
            {
                int end = Math.Min(60, start + size);
                var part = LabelDraws.Sample(likelihood, f[TensorIndex.Slice(start, end)], 42, 1000 + start, 3).to(ScalarType.Float64);
                Assert.True(part.eq(whole[TensorIndex.Slice(start, end)]).all().item<bool>(), $"labels of inputs {start}..{end - 1} differ in a batch of {size}");
            }
        }
        // Another seed or another index gives other labels (the draws are not constant).
        var other = LabelDraws.Sample(likelihood, f, seed: 43, firstIndex: 1000, draws: 3).to(ScalarType.Float64);
        Assert.False(other.eq(whole).all().item<bool>());
        Assert.Equal(CounterRandom.Uniform(42, 1005, 2, 0), CounterRandom.Uniform(42, 1005, 2, 0));
        Assert.NotEqual(CounterRandom.Uniform(42, 1005, 2, 0), CounterRandom.Uniform(42, 1005, 1, 0));
    }

    [Theory]
    [InlineData("categorical", "tanh")]
    [InlineData("gaussian", "sigmoid")]
    [InlineData("poisson", "softplus")]
    public void DatasetMomentsDoNotDependOnTheBatchSize(string likelihoodName, string activation)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        int outputs = likelihoodName == "categorical" ? 4 : 2;
        using var network = FeedForwardNetwork.CreateRandom([6, 7, 5, outputs], Activation.Parse(activation), ScalarType.Float64, seed: 4);
        var likelihood = Likelihood.Create(likelihoodName, outputs);
        var x = randn(new long[] { 300, 6 }, ScalarType.Float64, generator: new Generator(10));
        var y = likelihoodName == "categorical"
            ? randint(0, outputs, new long[] { 300 }, generator: new Generator(11))
            : likelihoodName == "poisson" ? randint(0, 3, new long[] { 300, outputs }, generator: new Generator(11)).to(ScalarType.Float64) : randn(new long[] { 300, outputs }, ScalarType.Float64, generator: new Generator(11));
        var estimator = new FisherEstimator(network, likelihood, new EstimatorOptions { Quantities = FisherQuantity.Everything, DrawsPerInput = 3, Seed = 8 });

        FisherMoments Run(int batch)
        {
            var total = new FisherMoments();
            for (int start = 0; start < 300; start += batch)
            {
                int end = Math.Min(300, start + batch);
                total.Merge(estimator.Estimate(x[TensorIndex.Slice(start, end)], y[TensorIndex.Slice(start, end)], start));
            }
            return total;
        }

        var reference = Run(300);
        foreach (int batch in new[] { 1, 7, 64 })
        {
            var other = Run(batch);
            Assert.Equal(300, other.Inputs);
            foreach (var (key, m) in reference.Streams)
            {
                var o = other.Streams[key];
                Assert.Equal(m.Count, o.Count);
                Assertions.Close(o.Mean, m.Mean, 1e-11, $"batch {batch} {key} mean");
                Assertions.Close(o.M2, m.M2, 1e-9, $"batch {batch} {key} M2");
            }
        }
    }
}
