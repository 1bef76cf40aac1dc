using Fisher.Estimators.Tests.Oracle;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests;

/// <summary>
/// Acceptance 1: Î1, Î2, exact, empirical, V1 and V2 batch sums (and sums of squares) from the estimator equal a
/// brute-force float64 reference built from per-sample autograd gradients and Hessian rows, to 1e-9 relative; so do
/// the diagnostics (per-input label means of Î1 and Î2, the count of negative Î2 terms, the four variance bounds).
/// </summary>
public sealed class OracleTests
{
    private const double Relative = 1e-9;

    public static TheoryData<Problem> Problems()
    {
        var data = new TheoryData<Problem>();
        foreach (var likelihood in new[] { "categorical", "gaussian", "bernoulli", "poisson" })
        {
            int outputs = likelihood == "categorical" ? 3 : 2;
            foreach (var activation in new[] { "tanh", "sigmoid", "relu", "softplus" })
            {
                data.Add(new Problem(activation, [3, 4, outputs], likelihood));
                data.Add(new Problem(activation, [3, 4, 3, outputs], likelihood, Seed: 2));
            }
            data.Add(new Problem("tanh", [3, 3, 4, 3, outputs], likelihood, Seed: 3));
        }
        foreach (var activation in new[] { "gelu", "silu", "leaky_relu", "identity" })
            data.Add(new Problem(activation, [3, 4, 3, 3], "categorical", Seed: 4));
        data.Add(new Problem("sigmoid", [2, 3, 3, 3, 3, 2], "gaussian", Seed: 5));
        // Piecewise-linear layers among smooth ones: residuals from above must still pass through them.
        data.Add(new Problem("relu,tanh", [3, 4, 3, 3, 3], "categorical", Seed: 6));
        data.Add(new Problem("sigmoid,relu,leaky_relu", [3, 4, 4, 3, 2], "poisson", Seed: 7));
        return data;
    }

    [Theory]
    [MemberData(nameof(Problems))]
    public void BatchSumsEqualBruteForceReference(Problem problem)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var sequential = problem.BuildSequential();
        using var network = FeedForwardNetwork.FromSequential(sequential);
        var likelihood = problem.BuildLikelihood();
        var x = problem.Inputs();
        var observed = problem.ObservedLabels();
        const int draws = 2;
        const ulong seed = 7;
        const long first = 10;

        var estimator = new FisherEstimator(network, likelihood, new EstimatorOptions { Quantities = FisherQuantity.Everything, DrawsPerInput = draws, Seed = seed });
        var moments = estimator.Estimate(x, observed, first);

        var oracle = new BruteForceOracle(sequential, problem.Likelihood, problem.Variance);
        var drawn = LabelDraws.Sample(likelihood, network.Forward(x), seed, first, draws);
        int count = oracle.Count;
        var sums = FisherQuantityNames.Singles.ToDictionary(q => q, _ => (S1: new double[count], S2: new double[count]));
        // Negative Î2 terms: terms within rounding of 0 may fall either way, so count the clearly negative ones and
        // the ones that are not clearly positive.
        var negativeStrict = new double[count];
        var negativeLoose = new double[count];
        void Add(FisherQuantity q, double[] values)
        {
            var (s1, s2) = sums[q];
            for (int i = 0; i < count; i++)
            {
                s1[i] += values[i];
                s2[i] += values[i] * values[i];
            }
        }

        for (int n = 0; n < problem.Batch; n++)
        {
            var xn = x[n];
            var meanSquaredScore = new double[count];
            var meanNegativeHessian = new double[count];
            for (int k = 0; k < draws; k++)
            {
                var (score, negative) = oracle.Direct(xn, Label(drawn, n, k, likelihood));
                Add(FisherQuantity.SquaredScore, score.Select(s => s * s).ToArray());
                Add(FisherQuantity.NegativeHessian, negative);
                double tolerance = 1e-12 * negative.Max(Math.Abs);
                for (int i = 0; i < count; i++)
                {
                    meanSquaredScore[i] += score[i] * score[i] / draws;
                    meanNegativeHessian[i] += negative[i] / draws;
                    negativeStrict[i] += negative[i] < -tolerance ? 1 : 0;
                    negativeLoose[i] += negative[i] < tolerance ? 1 : 0;
                }
            }
            Add(FisherQuantity.SquaredScoreInputMean, meanSquaredScore);
            Add(FisherQuantity.NegativeHessianInputMean, meanNegativeHessian);
            var bounds = OracleBounds.Compute(oracle, xn, likelihood.HasClassLabels);
            Add(FisherQuantity.V1Upper, bounds.V1Upper);
            Add(FisherQuantity.V1Lower, bounds.V1Lower);
            Add(FisherQuantity.V2Upper, bounds.V2Upper);
            Add(FisherQuantity.V2Lower, bounds.V2Lower);
            var (observedScore, _) = oracle.Direct(xn, Label(observed.unsqueeze(1), n, 0, likelihood));
            Add(FisherQuantity.Empirical, observedScore.Select(s => s * s).ToArray());
            var exact = oracle.Exact(xn);
            Add(FisherQuantity.Exact, exact.Fisher);
            Add(FisherQuantity.SquaredScoreVariance, exact.ScoreVariance);
            Add(FisherQuantity.NegativeHessianVariance, exact.HessianVariance);
        }

        foreach (var name in oracle.Names)
        {
            var m = moments[name, FisherQuantity.NegativeHessianNegative];
            Assert.Equal(problem.Batch * draws, m.Count);
            var counted = m.Sum();
            var strict = oracle.Slice(negativeStrict, name);
            var loose = oracle.Slice(negativeLoose, name);
            for (int i = 0; i < counted.Length; i++)
            {
                Assert.True(counted[i] >= strict[i] - 1e-9 && counted[i] <= loose[i] + 1e-9, $"{problem} {name}.i2_negative[{i}]: {counted[i]} negative terms, oracle {strict[i]}..{loose[i]}");
                Assert.Equal(counted[i], m.SumOfSquares()[i], 9); // indicators: Σv² = Σv
            }
        }

        foreach (var quantity in FisherQuantityNames.Singles.Where(q => q != FisherQuantity.NegativeHessianNegative))
        {
            foreach (var name in oracle.Names)
            {
                var m = moments[name, quantity];
                long expectedCount = quantity is FisherQuantity.SquaredScore or FisherQuantity.NegativeHessian ? problem.Batch * draws : problem.Batch;
                Assert.Equal(expectedCount, m.Count);
                // V1 and V2 are differences of label moments (E s⁴ − I², E t² − I²): where they vanish in theory the
                // reference keeps rounding noise of order 1e-16·I², so their floor is set by Σ I² of the parameter.
                // The same holds for the lower bounds, whose constant is 0 in theory for the softmax with C ≥ 3 (the
                // reference's eigenvalue is rounding noise), and for the bounds in general (eigenvalue rounding).
                double? scale = null;
                if (quantity is FisherQuantity.SquaredScoreVariance or FisherQuantity.NegativeHessianVariance)
                    scale = oracle.Slice(sums[FisherQuantity.Exact].S2, name).Max();
                if (quantity is FisherQuantity.V1Upper or FisherQuantity.V1Lower)
                    scale = oracle.Slice(sums[FisherQuantity.V1Upper].S1, name).Max();
                if (quantity is FisherQuantity.V2Upper or FisherQuantity.V2Lower)
                    scale = oracle.Slice(sums[FisherQuantity.V2Upper].S1, name).Max();
                Assertions.Close(m.Sum(), oracle.Slice(sums[quantity].S1, name), Relative, $"{problem} {name}.{quantity.Key()} Σv", floor: 1e-11, scale: scale);
                double? squaresScale = quantity is FisherQuantity.V1Upper or FisherQuantity.V1Lower or FisherQuantity.V2Upper or FisherQuantity.V2Lower
                    ? oracle.Slice(sums[quantity is FisherQuantity.V1Upper or FisherQuantity.V1Lower ? FisherQuantity.V1Upper : FisherQuantity.V2Upper].S2, name).Max()
                    : scale * scale;
                Assertions.Close(m.SumOfSquares(), oracle.Slice(sums[quantity].S2, name), Relative, $"{problem} {name}.{quantity.Key()} Σv²", floor: 1e-11, scale: squaresScale);
            }
        }
    }

    /// <summary>
    /// The estimator picks different backward passes for different quantity sets and draw counts (a residual pass
    /// over draws, or residuals of the Jacobian rows); every choice must give the moments of the oracle-checked
    /// all-quantities run.
    /// </summary>
    [Theory]
    [InlineData("categorical", "tanh", 1)]
    [InlineData("categorical", "sigmoid", 5)]
    [InlineData("gaussian", "softplus", 2)]
    [InlineData("poisson", "tanh", 4)]
    public void EveryQuantitySubsetGivesTheSameMoments(string likelihoodName, string activation, int draws)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var problem = new Problem(activation, [3, 4, 3, likelihoodName == "categorical" ? 3 : 2], likelihoodName, Seed: 21);
        using var network = FeedForwardNetwork.FromSequential(problem.BuildSequential());
        var likelihood = problem.BuildLikelihood();
        var x = problem.Inputs();
        var y = problem.ObservedLabels();
        FisherMoments Run(FisherQuantity q) =>
            new FisherEstimator(network, likelihood, new EstimatorOptions { Quantities = q, DrawsPerInput = draws, Seed = 3 }).Estimate(x, y, 5);
        var all = Run(FisherQuantity.Everything);
        var subsets = new[]
        {
            FisherQuantity.SquaredScore, FisherQuantity.NegativeHessian, FisherQuantity.Exact, FisherQuantity.Empirical,
            FisherQuantity.SquaredScore | FisherQuantity.NegativeHessian,
            FisherQuantity.SquaredScore | FisherQuantity.Exact | FisherQuantity.Empirical,
            FisherQuantity.NegativeHessian | FisherQuantity.SquaredScoreVariance,
            FisherQuantity.NegativeHessianVariance,
            FisherQuantity.All,
            FisherQuantity.SquaredScoreInputMean, FisherQuantity.NegativeHessianInputMean, FisherQuantity.NegativeHessianNegative,
            FisherQuantity.InputMeans | FisherQuantity.Exact,
            FisherQuantity.V1Upper, FisherQuantity.V1Lower, FisherQuantity.V2Upper, FisherQuantity.V2Lower, FisherQuantity.Bounds,
            FisherQuantity.NegativeHessianNegative | FisherQuantity.V2Lower,
        };
        foreach (var subset in subsets)
        {
            var part = Run(subset);
            Assert.Equal(subset.Split().Count() * network.Layout.Parameters.Count, part.Streams.Count);
            foreach (var (key, m) in part.Streams)
            {
                Assertions.Close(m.Mean, all.Streams[key].Mean, 1e-12, $"{subset}: {key} mean");
                Assertions.Close(m.M2, all.Streams[key].M2, 1e-9, $"{subset}: {key} M2");
            }
        }
    }

    [Theory]
    [InlineData("categorical")]
    [InlineData("gaussian")]
    [InlineData("bernoulli")]
    [InlineData("poisson")]
    public void OracleChainRuleAgreesWithDirectAutograd(string likelihoodName)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var problem = new Problem("tanh", [3, 4, 3, likelihoodName == "categorical" ? 3 : 2], likelihoodName);
        var sequential = problem.BuildSequential();
        var oracle = new BruteForceOracle(sequential, likelihoodName, problem.Variance);
        var x = problem.Inputs()[0];
        var (f, j, h) = oracle.NetworkDerivatives(x);
        foreach (var (label, _) in oracle.Labels(f).Take(6))
        {
            var (s1, n1) = oracle.Direct(x, label);
            var (s2, n2) = oracle.ChainRule(f, j, h, label);
            Assertions.Close(s2, s1, 1e-10, "score");
            Assertions.Close(n2, n1, 1e-10, "negative Hessian");
        }
    }

    /// <summary>One label as the oracle's flat vector, from a tensor with a draw axis.</summary>
    internal static double[] Label(Tensor labels, int n, int k, Likelihood likelihood) =>
        likelihood.HasClassLabels
            ? [labels[n, k].to(ScalarType.Float64).item<double>()]
            : labels[n, k].to(ScalarType.Float64).data<double>().ToArray();
}
