using Fisher.Estimators.Tests.Oracle;
using Xunit;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests;

/// <summary>
/// The label/input split of §3.2 from the i1/i2 streams and their per-input means (<see cref="VarianceSplit"/>),
/// and the share of negative Î2 terms (§7.2, identity 16).
/// </summary>
public sealed class VarianceSplitTests
{
    /// <summary>On synthetic nested data (N inputs x K draws), the split equals a direct two-level computation.</summary>
    [Theory]
    [InlineData(7, 5, 1)]
    [InlineData(2, 2, 2)]
    [InlineData(50, 3, 3)]
    public void SplitMatchesDirectTwoLevelComputation(int inputs, int draws, int seed)
    {
        var random = new Random(seed);
        const int width = 4;
        var values = new double[inputs, draws, width];
        for (int n = 0; n < inputs; n++)
        {
            var effect = Enumerable.Range(0, width).Select(j => 10 + j + 3 * random.NextDouble()).ToArray();
            for (int k = 0; k < draws; k++)
                for (int j = 0; j < width; j++)
                    values[n, k, j] = effect[j] + (1 + j) * Math.Exp(random.NextDouble()) * (random.NextDouble() - 0.5);
        }

        // Streamed: power sums of random chunks of inputs, merged with Chan's update, as a worker would.
        var all = Moments.Empty(width);
        var means = Moments.Empty(width);
        for (int start = 0; start < inputs;)
        {
            int size = Math.Min(inputs - start, 1 + random.Next(4));
            var s1 = new double[width];
            var s2 = new double[width];
            var m1 = new double[width];
            var m2 = new double[width];
            for (int n = start; n < start + size; n++)
                for (int j = 0; j < width; j++)
                {
                    double mean = 0;
                    for (int k = 0; k < draws; k++)
                    {
                        s1[j] += values[n, k, j];
                        s2[j] += values[n, k, j] * values[n, k, j];
                        mean += values[n, k, j] / draws;
                    }
                    m1[j] += mean;
                    m2[j] += mean * mean;
                }
            all.Merge(Moments.FromPowerSums(size * draws, s1, s2));
            means.Merge(Moments.FromPowerSums(size, m1, m2));
            start += size;
        }
        var split = VarianceSplit.Compute(all, means, draws);

        for (int j = 0; j < width; j++)
        {
            var inputMeans = Enumerable.Range(0, inputs).Select(n => Enumerable.Range(0, draws).Average(k => values[n, k, j])).ToArray();
            double grand = inputMeans.Average();
            double within = Enumerable.Range(0, inputs).Average(n =>
                Enumerable.Range(0, draws).Sum(k => Math.Pow(values[n, k, j] - inputMeans[n], 2)) / (draws - 1));
            double meansVariance = inputMeans.Sum(v => (v - grand) * (v - grand)) / (inputs - 1);
            Assert.Equal(within, split.LabelPart[j], 1e-10 * within);
            Assert.Equal(meansVariance - within / draws, split.InputPart[j], 1e-10 * meansVariance);
            Assert.Equal(meansVariance / inputs, split.VarianceOfEstimate[j], 1e-10 * meansVariance / inputs);
        }
    }

    [Fact]
    public void SingleDrawLeavesTheSplitUndefinedButTheVarianceOfTheEstimate()
    {
        var all = Moments.FromPowerSums(3, [6.0], [14.0]);  // values 1, 2, 3
        var split = VarianceSplit.Compute(all, all.Clone(), 1);
        Assert.True(double.IsNaN(split.LabelPart[0]) && double.IsNaN(split.InputPart[0]));
        Assert.Equal(1.0 / 3, split.VarianceOfEstimate[0], 1e-15);
        Assert.Throws<ArgumentException>(() => VarianceSplit.Compute(all, Moments.FromPowerSums(2, [1.0], [1.0]), 2));
    }

    /// <summary>
    /// A tiny network with K = 3 draws: the split of both estimators adds up (VarianceOfEstimate·N = InputPart +
    /// LabelPart/K) and equals the two-level computation on the oracle's per-sample terms.
    /// </summary>
    [Theory]
    [InlineData("categorical", "sigmoid")]
    [InlineData("poisson", "tanh")]
    public void SplitOfATinyNetworkAddsUpAndMatchesTheOracle(string likelihoodName, string activation)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        const int draws = 3;
        const ulong seed = 9;
        var problem = new Problem(activation, [3, 4, 3, likelihoodName == "categorical" ? 3 : 2], likelihoodName, Batch: 5, Seed: 41);
        var sequential = problem.BuildSequential();
        using var network = FeedForwardNetwork.FromSequential(sequential);
        var likelihood = problem.BuildLikelihood();
        var x = problem.Inputs();
        var estimator = new FisherEstimator(network, likelihood, new EstimatorOptions
        {
            Quantities = FisherQuantity.SquaredScore | FisherQuantity.NegativeHessian | FisherQuantity.InputMeans,
            DrawsPerInput = draws,
            Seed = seed,
        });
        var moments = estimator.Estimate(x, null, 0);

        var oracle = new BruteForceOracle(sequential, likelihoodName, problem.Variance);
        var drawn = LabelDraws.Sample(likelihood, network.Forward(x), seed, 0, draws);
        var terms = new (double[] Score2, double[] Negative)[problem.Batch, draws];
        for (int n = 0; n < problem.Batch; n++)
            for (int k = 0; k < draws; k++)
            {
                var (score, negative) = oracle.Direct(x[n], OracleTests.Label(drawn, n, k, likelihood));
                terms[n, k] = (score.Select(s => s * s).ToArray(), negative);
            }

        foreach (var estimatorQuantity in new[] { FisherQuantity.SquaredScore, FisherQuantity.NegativeHessian })
        {
            foreach (var name in oracle.Names)
            {
                var split = VarianceSplit.Compute(moments, name, estimatorQuantity);
                int size = split.LabelPart.Length;
                for (int i = 0; i < size; i++)
                {
                    double total = split.InputPart[i] + split.LabelPart[i] / draws;
                    Assert.True(Math.Abs(split.VarianceOfEstimate[i] * problem.Batch - total) <= 1e-10 * Math.Abs(total) + 1e-300,
                        $"{name}[{i}] {estimatorQuantity}: VarianceOfEstimate·N {split.VarianceOfEstimate[i] * problem.Batch:R} vs InputPart + LabelPart/K {total:R}");
                }

                // Two-level reference from per-sample autograd terms.
                double Term(int n, int k, int i)
                {
                    var t = terms[n, k];
                    return oracle.Slice(estimatorQuantity == FisherQuantity.SquaredScore ? t.Score2 : t.Negative, name)[i];
                }
                var label = new double[size];
                var input = new double[size];
                var variance = new double[size];
                for (int i = 0; i < size; i++)
                {
                    var means = Enumerable.Range(0, problem.Batch).Select(n => Enumerable.Range(0, draws).Average(k => Term(n, k, i))).ToArray();
                    double grand = means.Average();
                    double within = Enumerable.Range(0, problem.Batch).Average(n => Enumerable.Range(0, draws).Sum(k => Math.Pow(Term(n, k, i) - means[n], 2)) / (draws - 1));
                    double between = means.Sum(v => (v - grand) * (v - grand)) / (problem.Batch - 1);
                    label[i] = within;
                    input[i] = between - within / draws;
                    variance[i] = between / problem.Batch;
                }
                double scale = variance.Max() * problem.Batch + label.Max();
                Assertions.Close(split.LabelPart, label, 1e-9, $"{name} {estimatorQuantity} label part", floor: 1e-11, scale: scale);
                Assertions.Close(split.InputPart, input, 1e-9, $"{name} {estimatorQuantity} input part", floor: 1e-11, scale: scale);
                Assertions.Close(split.VarianceOfEstimate, variance, 1e-9, $"{name} {estimatorQuantity} variance of the estimate", floor: 1e-11, scale: scale / problem.Batch);
            }
        }
    }

    /// <summary>
    /// §7.2 / identity 16: the i2_negative stream counts, per parameter, the Î2 terms below 0 exactly as the oracle's
    /// materialised per-sample Hessian diagonals do; a smooth softmax net has negative hidden-layer terms, the last layer none.
    /// </summary>
    [Theory]
    [InlineData("sigmoid", 1)]
    [InlineData("tanh", 6)]
    [InlineData("tanh", 48)]
    public void ShareOfNegativeTermsMatchesTheOracle(string activation, int draws)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        const ulong seed = 17;
        var problem = new Problem(activation, [3, 4, 4, 3], "categorical", Batch: 4, Seed: 13, WeightScale: 2.5);
        var sequential = problem.BuildSequential();
        using var network = FeedForwardNetwork.FromSequential(sequential);
        var likelihood = problem.BuildLikelihood();
        var x = problem.Inputs();
        var estimator = new FisherEstimator(network, likelihood, new EstimatorOptions { Quantities = FisherQuantity.NegativeHessianNegative, DrawsPerInput = draws, Seed = seed });
        var moments = estimator.Estimate(x, null, 0);

        var oracle = new BruteForceOracle(sequential, "categorical", problem.Variance);
        var drawn = LabelDraws.Sample(likelihood, network.Forward(x), seed, 0, draws);
        var strict = new double[oracle.Count];
        var loose = new double[oracle.Count];
        for (int n = 0; n < problem.Batch; n++)
            for (int k = 0; k < draws; k++)
            {
                var (_, negative) = oracle.Direct(x[n], OracleTests.Label(drawn, n, k, likelihood));
                double tolerance = 1e-12 * negative.Max(Math.Abs);
                for (int i = 0; i < negative.Length; i++)
                {
                    strict[i] += negative[i] < -tolerance ? 1 : 0;
                    loose[i] += negative[i] < tolerance ? 1 : 0;
                }
            }

        var lastLayer = network.Layers[^1].Name + ".";
        double hiddenNegative = 0;
        foreach (var name in oracle.Names)
        {
            var m = moments[name, FisherQuantity.NegativeHessianNegative];
            Assert.Equal(problem.Batch * draws, m.Count);
            var counted = m.Sum();
            var lo = oracle.Slice(strict, name);
            var hi = oracle.Slice(loose, name);
            for (int i = 0; i < counted.Length; i++)
            {
                Assert.True(counted[i] >= lo[i] - 1e-9 && counted[i] <= hi[i] + 1e-9, $"{name}[{i}]: {counted[i]} negative terms, oracle {lo[i]}..{hi[i]}");
                Assert.InRange(m.Mean[i], 0.0, 1.0);
            }
            if (name.StartsWith(lastLayer, StringComparison.Ordinal))
                Assert.All(counted, c => Assert.Equal(0.0, c));
            else
                hiddenNegative += counted.Sum();
        }
        Assert.True(hiddenNegative > 0, "no hidden-layer Î2 term was negative");
    }
}
