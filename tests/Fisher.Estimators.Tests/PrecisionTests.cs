using Xunit;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests;

/// <summary>
/// float32 compute (with float64 or float32 Gram products) agrees with float64 compute to float32 accuracy:
/// the oracle tests run in float64, so this covers the path the benchmark and real jobs use.
/// </summary>
public sealed class PrecisionTests
{
    [Theory]
    [InlineData("categorical", "tanh", true)]
    [InlineData("categorical", "tanh", false)]
    [InlineData("gaussian", "sigmoid", true)]
    [InlineData("bernoulli", "relu", false)]
    public void Float32ComputeMatchesFloat64(string likelihoodName, string activation, bool doubleMoments)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        int outputs = likelihoodName == "categorical" ? 5 : 3;
        using var network64 = FeedForwardNetwork.CreateRandom([12, 16, 16, outputs], Activation.Parse(activation), ScalarType.Float64, seed: 8);
        using var network32 = network64.To(ScalarType.Float32);
        var likelihood = Likelihood.Create(likelihoodName, outputs, 0.5);
        var x = rand(new long[] { 300, 12 }, ScalarType.Float64, generator: new Generator(14));
        var y = likelihoodName switch
        {
            "categorical" => randint(0, outputs, new long[] { 300 }, generator: new Generator(15)),
            "bernoulli" => randint(0, 2, new long[] { 300, outputs }, generator: new Generator(15)).to(ScalarType.Float64),
            _ => randn(new long[] { 300, outputs }, ScalarType.Float64, generator: new Generator(15)),
        };
        FisherMoments Run(FeedForwardNetwork network, bool dm)
        {
            var estimator = new FisherEstimator(network, likelihood, new EstimatorOptions { Quantities = FisherQuantity.Everything, DrawsPerInput = 2, Seed = 4, DoublePrecisionMoments = dm });
            using var accumulator = new FisherAccumulator();
            for (int start = 0; start < 300; start += 100)
                estimator.Accumulate(accumulator, x[TensorIndex.Slice(start, start + 100)], y[TensorIndex.Slice(start, start + 100)], start);
            return accumulator.ToMoments();
        }

        var reference = Run(network64, true);
        var single = Run(network32, doubleMoments);
        foreach (var (key, m) in reference.Streams)
        {
            var s = single.Streams[key];
            Assert.Equal(m.Count, s.Count);
            if (key.Quantity == FisherQuantity.NegativeHessianNegative)
            {
                // Signs of Î2 terms within float32 rounding of 0 may flip: the shares agree to a few flips in 600 terms.
                Assertions.Close(s.Mean, m.Mean, 0, $"{key} share", floor: 0.01, scale: 1);
                continue;
            }
            Assertions.Close(s.Mean, m.Mean, 1e-4, $"{key} mean", floor: 1e-5);
            if (doubleMoments)
            {
                Assertions.Close(s.M2, m.M2, 1e-3, $"{key} M2", floor: 1e-4);
                continue;
            }
            // float32 Gram products: M2 = S2 − S1²/n keeps an error of order 1e-7·S2 per batch, which is
            // large relative to M2 only for nearly constant values (EstimatorOptions.DoublePrecisionMoments).
            var s2 = m.SumOfSquares();
            for (int i = 0; i < s2.Length; i++)
                Assert.True(Math.Abs(s.M2[i] - m.M2[i]) <= 1e-3 * m.M2[i] + 2e-6 * s2[i], $"{key} M2[{i}]: {s.M2[i]} vs {m.M2[i]} (S2 {s2[i]})");
        }
    }
}
