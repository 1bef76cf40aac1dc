using Fisher.Estimators.Tests.Oracle;
using Xunit;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests;

/// <summary>The identities of estimators.md §10.1 (items 1, 2, 4, 5, 6, 7, 11, 14, 16), in float64.</summary>
public sealed class IdentityTests
{
    private const double Tight = 1e-10;

    public static TheoryData<string> AllLikelihoods() => new() { "categorical", "gaussian", "bernoulli", "poisson" };

    private static Problem Net(string likelihood, string activation = "tanh", int[]? hidden = null) =>
        new(activation, [3, .. hidden ?? [4, 3], likelihood == "categorical" ? 3 : 2], likelihood, Batch: 3, Seed: 11);

    /// <summary>§10.1 items 1 and 2: E_y Î1-term = E_y Î2-term = I(θ|x); Σ w Î1² − I² = V1; Σ w (Î2 − I)² = V2.</summary>
    [Theory]
    [MemberData(nameof(AllLikelihoods))]
    public void LabelExpectationsGiveFisherAndClosedFormVariances(string likelihood)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var terms = new LabelTerms(Net(likelihood));
        for (int n = 0; n < terms.Problem.Batch; n++)
        {
            var conditional = terms.Conditional(n);
            var labels = terms.Labels(n);
            var perLabel = labels.Select(l => (l.Weight, Moments: terms.ForLabel(n, l.Label))).ToList();
            foreach (var name in terms.Names)
            {
                var fisher = conditional[name, FisherQuantity.Exact].Mean;
                int size = fisher.Length;
                var e1 = new double[size];
                var e2 = new double[size];
                var v1 = new double[size];
                var v2 = new double[size];
                foreach (var (w, m) in perLabel)
                {
                    var t1 = m[name, FisherQuantity.SquaredScore].Mean;
                    var t2 = m[name, FisherQuantity.NegativeHessian].Mean;
                    for (int i = 0; i < size; i++)
                    {
                        e1[i] += w * t1[i];
                        e2[i] += w * t2[i];
                        v1[i] += w * t1[i] * t1[i];
                        v2[i] += w * (t2[i] - fisher[i]) * (t2[i] - fisher[i]);
                    }
                }
                for (int i = 0; i < size; i++)
                    v1[i] -= fisher[i] * fisher[i];
                double fisherScale = fisher.Max(Math.Abs);
                Assertions.Close(e1, fisher, Tight, $"{likelihood} {name} E[Î1-term]");
                Assertions.Close(e2, fisher, Tight, $"{likelihood} {name} E[Î2-term]");
                Assertions.Close(conditional[name, FisherQuantity.SquaredScoreVariance].Mean, v1, 1e-9, $"{likelihood} {name} V1", scale: fisherScale * fisherScale);
                Assertions.Close(conditional[name, FisherQuantity.NegativeHessianVariance].Mean, v2, 1e-9, $"{likelihood} {name} V2", scale: fisherScale * fisherScale);
                if (likelihood == "gaussian")
                    Assertions.Close(conditional[name, FisherQuantity.SquaredScoreVariance].Mean, fisher.Select(v => 2 * v * v).ToArray(), Tight, $"{name} Gaussian V1 = 2 I²");
            }
        }
    }

    /// <summary>§10.1 items 4 and 5: V2 = 0 and every Î2-term equals I(θ|x) in the last layer (any activation), and everywhere in ReLU nets.</summary>
    [Theory]
    [InlineData("categorical", "tanh")]
    [InlineData("gaussian", "sigmoid")]
    [InlineData("bernoulli", "softplus")]
    [InlineData("poisson", "gelu")]
    [InlineData("categorical", "relu")]
    [InlineData("gaussian", "relu")]
    [InlineData("bernoulli", "leaky_relu")]
    public void NegativeHessianHasNoLabelVarianceWhereTheOutputIsLinearInTheParameter(string likelihood, string activation)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var terms = new LabelTerms(Net(likelihood, activation));
        bool piecewiseLinear = activation is "relu" or "leaky_relu";
        var lastLayer = terms.Network.Layers[^1].Name;
        var estimator = new FisherEstimator(terms.Network, terms.Likelihood, new EstimatorOptions
        {
            Quantities = FisherQuantity.NegativeHessian | FisherQuantity.Exact | FisherQuantity.NegativeHessianVariance,
            DrawsPerInput = 6,
            Seed = 5,
        });
        for (int n = 0; n < terms.Problem.Batch; n++)
        {
            var m = estimator.Estimate(terms.Inputs[TensorIndex.Slice(n, n + 1)], null, n);
            foreach (var name in terms.Names.Where(p => piecewiseLinear || p.StartsWith(lastLayer + ".", StringComparison.Ordinal)))
            {
                var fisher = m[name, FisherQuantity.Exact].Mean;
                double scale = fisher.Max(Math.Abs);
                Assert.All(m[name, FisherQuantity.NegativeHessianVariance].Mean, v => Assert.Equal(0.0, v));
                Assertions.Close(m[name, FisherQuantity.NegativeHessian].Mean, fisher, Tight, $"{name} Î2 mean over draws");
                // M2 = S2 − S1²/n from power sums keeps rounding of order 1e-16·S2 = 1e-16·n·I².
                Assert.All(m[name, FisherQuantity.NegativeHessian].M2, v => Assert.True(v <= 1e-13 * 6 * scale * scale, $"{name}: Î2 varies over draws (M2 {v})"));
            }
            if (!piecewiseLinear)
            {
                // Smooth hidden layers do have label variance: the zeros above are not an artefact.
                Assert.Contains(terms.Names.Where(p => !p.StartsWith(lastLayer + ".", StringComparison.Ordinal)),
                    name => m[name, FisherQuantity.NegativeHessianVariance].Mean.Any(v => v > 0));
            }
        }
    }

    /// <summary>§10.1 item 6: softmax last layer V1(W_cj) = a_j⁴ p_c(1−p_c)(1−2p_c)²; Bernoulli V1 = p(1−p)(1−2p)² a_j⁴.</summary>
    [Theory]
    [InlineData("categorical")]
    [InlineData("bernoulli")]
    public void LastLayerScoreVarianceHasClosedForm(string likelihood)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var terms = new LabelTerms(new Problem("tanh", [3, 4, likelihood == "categorical" ? 3 : 1], likelihood, Batch: 3, Seed: 12));
        var layers = terms.Network.Layers;
        for (int n = 0; n < 3; n++)
        {
            var x = terms.Inputs[TensorIndex.Slice(n, n + 1)];
            var hidden = layers[0].Apply(x).tanh()[0].data<double>().ToArray();
            var f = terms.Network.Forward(x)[0];
            var p = (likelihood == "categorical" ? f.softmax(0) : f.sigmoid()).data<double>().ToArray();
            var v1 = terms.Conditional(n);
            var weight = v1[$"{layers[1].Name}.weight", FisherQuantity.SquaredScoreVariance].Mean;
            var bias = v1[$"{layers[1].Name}.bias", FisherQuantity.SquaredScoreVariance].Mean;
            var expectedWeight = new double[weight.Length];
            var expectedBias = new double[bias.Length];
            for (int c = 0; c < p.Length; c++)
            {
                double unit = p[c] * (1 - p[c]) * (1 - 2 * p[c]) * (1 - 2 * p[c]);
                expectedBias[c] = unit;
                for (int j = 0; j < hidden.Length; j++)
                    expectedWeight[c * hidden.Length + j] = Math.Pow(hidden[j], 4) * unit;
            }
            Assertions.Close(weight, expectedWeight, Tight, "last-layer weight V1");
            Assertions.Close(bias, expectedBias, Tight, "last-layer bias V1");
        }
    }

    /// <summary>
    /// §10.1 item 7: λmin(Σ)‖H‖² ≤ V2 ≤ λmax(Σ)‖H‖² (softmax: p_min‖PH‖² ≤ V2 ≤ min(p_max, ½)‖PH‖²);
    /// V1 ≤ λmax(Ψ)‖J‖⁴ with Ψ = Cov(ε⊗ε) from enumeration; softmax V1 ≤ ‖PJ‖⁴; Gaussian V1 = 2‖J‖⁴/σ⁴ exactly.
    /// </summary>
    [Theory]
    [MemberData(nameof(AllLikelihoods))]
    public void ConditionalVariancesRespectTheirBounds(string likelihood)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var terms = new LabelTerms(Net(likelihood, "sigmoid"));
        for (int n = 0; n < terms.Problem.Batch; n++)
        {
            var (f, j, h) = terms.Oracle.NetworkDerivatives(terms.Inputs[n]);
            int k = f.Length;
            var sigma = OutputCovariance(terms.Oracle, f);
            var eig = linalg.eigvalsh(tensor(sigma.Cast<double>().ToArray(), new long[] { k, k }, ScalarType.Float64)).data<double>().ToArray();
            double psiMax = PsiMaxEigenvalue(terms.Oracle, f);
            var conditional = terms.Conditional(n);
            var v1 = terms.Names.SelectMany(p => conditional[p, FisherQuantity.SquaredScoreVariance].Mean).ToArray();
            var v2 = terms.Names.SelectMany(p => conditional[p, FisherQuantity.NegativeHessianVariance].Mean).ToArray();
            var p = likelihood == "categorical" ? Softmax(f) : null;
            for (int i = 0; i < v1.Length; i++)
            {
                var ji = Enumerable.Range(0, k).Select(o => j[o][i]).ToArray();
                var hi = Enumerable.Range(0, k).Select(o => h[o][i]).ToArray();
                double j2 = ji.Sum(v => v * v), h2 = hi.Sum(v => v * v);
                double slack = 1e-9 * (Math.Abs(v1[i]) + Math.Abs(v2[i])) + 1e-15;
                Assert.True(v1[i] <= psiMax * j2 * j2 + slack, $"V1[{i}] {v1[i]} above λmax(Ψ)‖J‖⁴ {psiMax * j2 * j2}");
                if (p is null)
                {
                    Assert.True(v2[i] >= eig.Min() * h2 - slack && v2[i] <= eig.Max() * h2 + slack, $"V2[{i}] {v2[i]} outside [{eig.Min() * h2}, {eig.Max() * h2}]");
                }
                else
                {
                    double ph2 = Projected(hi).Sum(v => v * v), pj2 = Projected(ji).Sum(v => v * v);
                    Assert.True(v2[i] >= p.Min() * ph2 - slack && v2[i] <= Math.Min(p.Max(), 0.5) * ph2 + slack, $"V2[{i}] {v2[i]} outside the projected bounds");
                    Assert.True(v1[i] <= pj2 * pj2 + slack, $"V1[{i}] {v1[i]} above ‖PJ‖⁴ {pj2 * pj2}");
                }
                if (likelihood == "gaussian")
                {
                    double s2 = terms.Problem.Variance;
                    Assert.Equal(2 * j2 * j2 / (s2 * s2), v1[i], 1e-10 * (1 + v1[i]));
                    Assert.Equal(psiMax, 2 / (s2 * s2), 1e-9);
                }
            }
        }
    }

    /// <summary>§10.1 item 11 and the output Fisher itself: A Aᵀ = Σ_f, and Σ_f equals Cov(e) from enumeration.</summary>
    [Theory]
    [MemberData(nameof(AllLikelihoods))]
    public void SquareRootFactorReproducesTheOutputFisher(string likelihood)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var terms = new LabelTerms(Net(likelihood));
        var f = terms.Network.Forward(terms.Inputs);
        var a = terms.Likelihood.SqrtOutputFisher(f);
        var sigma = terms.Likelihood.OutputFisher(f);
        var product = a.matmul(a.transpose(1, 2));
        Assertions.Close(product.flatten().data<double>().ToArray(), sigma.flatten().data<double>().ToArray(), Tight, "A Aᵀ", floor: 1e-14);
        for (int n = 0; n < terms.Problem.Batch; n++)
        {
            var fn = f[n].data<double>().ToArray();
            var expected = OutputCovariance(terms.Oracle, fn).Cast<double>().ToArray();
            Assertions.Close(sigma[n].flatten().data<double>().ToArray(), expected, 1e-10, "Σ_f vs Cov(e)", floor: 1e-14);
        }
    }

    /// <summary>§10.1 item 14: given x, V/I² is the same for a unit's bias and all its incoming weights (V1 and V2).</summary>
    [Theory]
    [InlineData("categorical")]
    [InlineData("gaussian")]
    public void WeightsAndBiasOfAUnitShareRelativeVariances(string likelihood)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var terms = new LabelTerms(Net(likelihood, "sigmoid"));
        var m = terms.Conditional(0);
        foreach (var layer in terms.Network.Layers)
        {
            var iw = m[$"{layer.Name}.weight", FisherQuantity.Exact].Mean;
            var ib = m[$"{layer.Name}.bias", FisherQuantity.Exact].Mean;
            foreach (var q in new[] { FisherQuantity.SquaredScoreVariance, FisherQuantity.NegativeHessianVariance })
            {
                var vw = m[$"{layer.Name}.weight", q].Mean;
                var vb = m[$"{layer.Name}.bias", q].Mean;
                for (int jj = 0; jj < layer.OutputWidth; jj++)
                {
                    double biasRatio = vb[jj] / (ib[jj] * ib[jj]);
                    for (int kk = 0; kk < layer.InputWidth; kk++)
                    {
                        int idx = jj * layer.InputWidth + kk;
                        double weightRatio = vw[idx] / (iw[idx] * iw[idx]);
                        Assert.True(Math.Abs(weightRatio - biasRatio) <= 1e-8 * Math.Abs(biasRatio) + 1e-12, $"{layer.Name} unit {jj} input {kk} {q}: {weightRatio} vs {biasRatio}");
                    }
                }
            }
        }
    }

    /// <summary>§10.1 item 16: Î1-terms are never negative; on small sigmoid and tanh softmax nets some hidden-layer Î2-terms are.</summary>
    [Theory]
    [InlineData("sigmoid")]
    [InlineData("tanh")]
    public void SquaredScoreIsNonNegativeAndHiddenNegativeHessianCanBeNegative(string activation)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var terms = new LabelTerms(new Problem(activation, [3, 4, 4, 3], "categorical", Batch: 4, Seed: 13, WeightScale: 2.5));
        var hidden = terms.Network.Layers.Take(terms.Network.Layers.Count - 1).SelectMany(l => new[] { $"{l.Name}.weight", $"{l.Name}.bias" }).ToArray();
        int negative = 0;
        for (int n = 0; n < terms.Problem.Batch; n++)
        {
            foreach (var (label, _) in terms.Labels(n))
            {
                var m = terms.ForLabel(n, label);
                foreach (var name in terms.Names)
                    Assert.All(m[name, FisherQuantity.SquaredScore].Mean, v => Assert.True(v >= 0));
                negative += hidden.Sum(name => m[name, FisherQuantity.NegativeHessian].Mean.Count(v => v < 0));
            }
        }
        Assert.True(negative > 0, "no hidden-layer Î2-term was negative for any label");
    }

    private static double[,] OutputCovariance(BruteForceOracle oracle, double[] f)
    {
        int k = f.Length;
        var cov = new double[k, k];
        foreach (var (label, w) in oracle.Labels(f))
        {
            var (g, _) = oracle.OutputDerivatives(f, label);
            for (int a = 0; a < k; a++)
                for (int b = 0; b < k; b++)
                    cov[a, b] += w * g[a] * g[b];
        }
        return cov;
    }

    /// <summary>λmax of Ψ = Cov(vec εεᵀ) with ε the f-space score, from the label enumeration.</summary>
    private static double PsiMaxEigenvalue(BruteForceOracle oracle, double[] f)
    {
        int k = f.Length, k2 = k * k;
        var mean = new double[k2];
        var second = new double[k2, k2];
        foreach (var (label, w) in oracle.Labels(f))
        {
            var (g, _) = oracle.OutputDerivatives(f, label);
            var outer = new double[k2];
            for (int a = 0; a < k; a++)
                for (int b = 0; b < k; b++)
                    outer[a * k + b] = g[a] * g[b];
            for (int r = 0; r < k2; r++)
            {
                mean[r] += w * outer[r];
                for (int c = 0; c < k2; c++)
                    second[r, c] += w * outer[r] * outer[c];
            }
        }
        var psi = new double[k2 * k2];
        for (int r = 0; r < k2; r++)
            for (int c = 0; c < k2; c++)
                psi[r * k2 + c] = second[r, c] - mean[r] * mean[c];
        return linalg.eigvalsh(tensor(psi, new long[] { k2, k2 }, ScalarType.Float64)).max().item<double>();
    }

    private static double[] Softmax(double[] f)
    {
        var e = f.Select(v => Math.Exp(v - f.Max())).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    private static double[] Projected(double[] v)
    {
        double mean = v.Average();
        return v.Select(x => x - mean).ToArray();
    }
}
