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
        var oracle = new BruteForceOracle(sequential, problem.Likelihood, problem.Variance);
        var likelihood = problem.BuildLikelihood();
        OracleComparison.Check(problem.ToString(), oracle, options => new FisherEstimator(network, likelihood, options), network.Forward,
            likelihood, problem.Inputs(), problem.ObservedLabels(), chainRule: false);
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
    internal static double[] Label(Tensor labels, int n, int k, Likelihood likelihood) => OracleComparison.Label(labels, n, k, likelihood);
}
