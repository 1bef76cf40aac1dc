using Fisher.Estimators.Tests.Oracle;
using Xunit;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests;

/// <summary>
/// The variance bounds of estimators.md §4.1, §4.2 (identity 7) as streamed quantities: for every parameter and
/// every input, v1_lower ≤ V1 ≤ v1_upper and v2_lower ≤ V2 ≤ v2_upper; tight for the isotropic Gaussian. (That the
/// streamed bound sums equal a brute-force computation from the oracle's J_i, H_i and enumerated Σ, Ψ is checked in
/// <see cref="OracleTests"/>.)
/// </summary>
public sealed class BoundsTests
{
    private const FisherQuantity Checked = FisherQuantity.Exact | FisherQuantity.SquaredScoreVariance | FisherQuantity.NegativeHessianVariance | FisherQuantity.Bounds;

    public static TheoryData<Problem> Problems()
    {
        var data = new TheoryData<Problem>();
        foreach (var likelihood in new[] { "categorical", "gaussian", "bernoulli", "poisson" })
        {
            int outputs = likelihood == "categorical" ? 3 : 2;
            foreach (var activation in new[] { "tanh", "sigmoid", "relu", "softplus" })
            {
                data.Add(new Problem(activation, [3, 4, outputs], likelihood, Batch: 5, Seed: 31));
                data.Add(new Problem(activation, [3, 4, 3, outputs], likelihood, Batch: 5, Seed: 32));
            }
        }
        // Two classes (1⊥ is a line: both V1 bounds are exact), one Bernoulli output, four classes, a wide output.
        data.Add(new Problem("sigmoid", [3, 4, 3, 2], "categorical", Batch: 5, Seed: 33));
        data.Add(new Problem("tanh", [3, 4, 3, 1], "bernoulli", Batch: 5, Seed: 34));
        data.Add(new Problem("tanh", [3, 4, 3, 4], "categorical", Batch: 5, Seed: 35, WeightScale: 2.5));
        data.Add(new Problem("softplus", [3, 4, 3, 4], "poisson", Batch: 5, Seed: 36));
        return data;
    }

    [Theory]
    [MemberData(nameof(Problems))]
    public void EveryBoundHoldsForEveryParameterAndInput(Problem problem)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        using var network = FeedForwardNetwork.FromSequential(problem.BuildSequential());
        var estimator = new FisherEstimator(network, problem.BuildLikelihood(), new EstimatorOptions { Quantities = Checked });
        var x = problem.Inputs();
        int nonTrivialV2 = 0, nonTrivialLower = 0;
        for (int n = 0; n < problem.Batch; n++)
        {
            var m = estimator.Estimate(x[TensorIndex.Slice(n, n + 1)], null, n);
            foreach (var parameter in network.Layout.Parameters.Select(p => p.Name))
            {
                var fisher = m[parameter, FisherQuantity.Exact].Mean;
                var v1 = m[parameter, FisherQuantity.SquaredScoreVariance].Mean;
                var v2 = m[parameter, FisherQuantity.NegativeHessianVariance].Mean;
                var v1Upper = m[parameter, FisherQuantity.V1Upper].Mean;
                var v1Lower = m[parameter, FisherQuantity.V1Lower].Mean;
                var v2Upper = m[parameter, FisherQuantity.V2Upper].Mean;
                var v2Lower = m[parameter, FisherQuantity.V2Lower].Mean;
                for (int i = 0; i < v1.Length; i++)
                {
                    // 1e-12 relative slack; V1 = E s⁴ − I² carries rounding of order 1e-16·I², so its scale includes I².
                    double slack1 = 1e-12 * (Math.Abs(v1Upper[i]) + fisher[i] * fisher[i]) + 1e-300;
                    double slack2 = 1e-12 * Math.Abs(v2Upper[i]) + 1e-300;
                    string at = $"{problem} input {n} {parameter}[{i}]";
                    Assert.True(v1Lower[i] >= 0 && v2Lower[i] >= 0, $"{at}: negative lower bound");
                    Assert.True(v1Lower[i] <= v1[i] + slack1, $"{at}: V1 {v1[i]:R} below its lower bound {v1Lower[i]:R}");
                    Assert.True(v1[i] <= v1Upper[i] + slack1, $"{at}: V1 {v1[i]:R} above its upper bound {v1Upper[i]:R}");
                    Assert.True(v2Lower[i] <= v2[i] + slack2, $"{at}: V2 {v2[i]:R} below its lower bound {v2Lower[i]:R}");
                    Assert.True(v2[i] <= v2Upper[i] + slack2, $"{at}: V2 {v2[i]:R} above its upper bound {v2Upper[i]:R}");
                    nonTrivialV2 += v2[i] > 0 ? 1 : 0;
                    nonTrivialLower += v1Lower[i] > 0 || v2Lower[i] > 0 ? 1 : 0;
                }
            }
        }
        if (problem.Activation != "relu")
            Assert.True(nonTrivialV2 > 0, "no parameter has V2 > 0: the V2 bounds were not exercised");
        if (problem.Likelihood != "categorical" || problem.Outputs == 2)
            Assert.True(nonTrivialLower > 0, "every lower bound is 0");
    }

    /// <summary>Isotropic Gaussian: v1_lower = V1 = v1_upper (= 2‖J‖⁴/σ⁴) and v2_lower = V2 = v2_upper (= ‖H‖²/σ²).</summary>
    [Theory]
    [InlineData("tanh", 0.7)]
    [InlineData("sigmoid", 2.5)]
    [InlineData("softplus", 1.0)]
    public void GaussianBoundsAreTight(string activation, double variance)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var problem = new Problem(activation, [3, 4, 3, 2], "gaussian", Variance: variance, Batch: 4, Seed: 37);
        using var network = FeedForwardNetwork.FromSequential(problem.BuildSequential());
        var estimator = new FisherEstimator(network, problem.BuildLikelihood(), new EstimatorOptions { Quantities = Checked });
        var x = problem.Inputs();
        for (int n = 0; n < problem.Batch; n++)
        {
            var m = estimator.Estimate(x[TensorIndex.Slice(n, n + 1)], null, n);
            foreach (var parameter in network.Layout.Parameters.Select(p => p.Name))
            {
                var v1 = m[parameter, FisherQuantity.SquaredScoreVariance].Mean;
                var v2 = m[parameter, FisherQuantity.NegativeHessianVariance].Mean;
                Assertions.Close(m[parameter, FisherQuantity.V1Lower].Mean, v1, 1e-10, $"{parameter} v1_lower = v1", floor: 0);
                Assertions.Close(m[parameter, FisherQuantity.V1Upper].Mean, v1, 1e-10, $"{parameter} v1_upper = v1", floor: 0);
                Assertions.Close(m[parameter, FisherQuantity.V2Lower].Mean, v2, 1e-10, $"{parameter} v2_lower = v2", floor: 0);
                Assertions.Close(m[parameter, FisherQuantity.V2Upper].Mean, v2, 1e-10, $"{parameter} v2_upper = v2", floor: 0);
            }
        }
    }

    /// <summary>The likelihoods' eigenvalue constants equal eigvalsh of the enumerated Σ and Ψ (on 1⊥ / symmetric arguments).</summary>
    [Theory]
    [InlineData("categorical", 2)]
    [InlineData("categorical", 3)]
    [InlineData("categorical", 5)]
    [InlineData("gaussian", 3)]
    [InlineData("bernoulli", 1)]
    [InlineData("bernoulli", 3)]
    [InlineData("poisson", 3)]
    public void EigenvalueConstantsMatchTheEnumeratedMoments(string likelihoodName, int outputs)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var problem = new Problem("tanh", [3, 4, outputs], likelihoodName, Batch: 4, Seed: 38, WeightScale: 2.5);
        var sequential = problem.BuildSequential();
        using var network = FeedForwardNetwork.FromSequential(sequential);
        var likelihood = problem.BuildLikelihood();
        var oracle = new BruteForceOracle(sequential, likelihoodName, problem.Variance);
        var x = problem.Inputs();
        var f = network.Forward(x);
        var (sigmaLow, sigmaHigh) = likelihood.OutputFisherEigenvalues(f);
        var (psiLow, psiHigh) = likelihood.ScoreCovarianceEigenvalues(f);
        for (int n = 0; n < problem.Batch; n++)
        {
            var expected = OracleBounds.Compute(oracle, x[n], likelihood.HasClassLabels);
            double scale = expected.SigmaMax, psiScale = Math.Max(expected.PsiMax, 1e-300);
            Assert.True(Math.Abs(sigmaLow[n].item<double>() - expected.SigmaMin) <= 1e-12 * scale, $"λmin(Σ) {sigmaLow[n].item<double>()} vs {expected.SigmaMin}");
            Assert.True(Math.Abs(sigmaHigh[n].item<double>() - expected.SigmaMax) <= 1e-12 * scale, $"λmax(Σ) {sigmaHigh[n].item<double>()} vs {expected.SigmaMax}");
            Assert.True(Math.Abs(psiLow[n].item<double>() - expected.PsiMin) <= 1e-10 * psiScale, $"λmin(Ψ) {psiLow[n].item<double>()} vs {expected.PsiMin}");
            Assert.True(Math.Abs(psiHigh[n].item<double>() - expected.PsiMax) <= 1e-10 * psiScale, $"λmax(Ψ) {psiHigh[n].item<double>()} vs {expected.PsiMax}");
        }
    }
}
