using Fisher.Estimators.Graph;
using Xunit;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests.Graph;

/// <summary>
/// The identities of estimators.md §10.1 on layer graphs, from the library's own per-label terms (labels enumerated
/// and fed as "draws" through <see cref="FisherEstimator.EstimateWithDrawnLabels"/>): E_y Î1 = E_y Î2 = I(θ|x) and the
/// closed-form V1, V2 equal the label variances of the terms; V2 = 0 and every Î2 term equals I(θ|x) in the last layer,
/// and everywhere in piecewise-linear networks (ReLU, LeakyReLU, max pooling, average pooling, BatchNorm, residual sums).
/// </summary>
public sealed class GraphIdentityTests
{
    private const double Tight = 1e-10;

    /// <summary>Smooth residual/BatchNorm CNNs under each likelihood, and piecewise-linear CNNs (Poisson with one output keeps the label sums short).</summary>
    public static TheoryData<string, bool> Cases() => new()
    {
        { "categorical", false }, { "gaussian", false }, { "bernoulli", false }, { "poisson", false },
        { "categorical", true }, { "gaussian", true }, { "bernoulli", true }, { "poisson", true },
    };

    private static GraphProblem Net(string likelihood, bool piecewiseLinear)
    {
        var problem = piecewiseLinear
            ? new NetBuilder(2, 5, 5).Conv2d(3, 3, padding: 1).BatchNorm().Act("relu").MaxPool(2).BasicBlock(3, 1, project: false, "leaky_relu")
                .AvgPool(2, stride: 1, padding: 1, countIncludePad: false).Flatten().Problem("piecewise-linear CNN", likelihood, 3, seed: 60, weightScale: 1.2)
            : GraphProblems.Likelihoods().First(p => p.Likelihood == likelihood);
        int outputs = likelihood switch { "categorical" => 3, "poisson" => 1, _ => 2 };
        return problem.With(likelihood, outputs);
    }

    /// <summary>§10.1 items 1 and 2: E_y Î1-term = E_y Î2-term = I(θ|x); Σ w Î1² − I² = V1; Σ w (Î2 − I)² = V2; piecewise-linear: every Î2-term = I.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void LabelExpectationsGiveFisherAndClosedFormVariances(string likelihood, bool piecewiseLinear)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var problem = Net(likelihood, piecewiseLinear);
        using var module = problem.BuildModule();
        using var graph = GraphProblem.BuildGraph(module, problem.Spec);
        var oracle = problem.BuildOracle(module);
        var lik = problem.BuildLikelihood();
        var x = problem.Inputs();
        var names = graph.Layout.Parameters.Select(p => p.Name).ToArray();
        var conditionalEstimator = new FisherEstimator(graph, lik, new EstimatorOptions
        {
            Quantities = FisherQuantity.Exact | FisherQuantity.SquaredScoreVariance | FisherQuantity.NegativeHessianVariance,
        });
        var labelEstimator = new FisherEstimator(graph, lik, new EstimatorOptions { Quantities = FisherQuantity.SquaredScore | FisherQuantity.NegativeHessian });
        for (int n = 0; n < problem.Batch; n++)
        {
            var xn = x[TensorIndex.Slice(n, n + 1)];
            var conditional = conditionalEstimator.Estimate(xn, null, n);
            using var f = graph.Forward(xn);
            var perLabel = oracle.Labels(f[0].data<double>().ToArray())
                .Select(l => (l.Weight, Moments: labelEstimator.EstimateWithDrawnLabels(xn, null, Drawn(lik, l.Label)))).ToList();
            foreach (var name in names)
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
                    if (piecewiseLinear)
                        Assertions.Close(t2, fisher, Tight, $"{problem} {name} Î2-term of one label");
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
                Assertions.Close(e1, fisher, Tight, $"{problem} {name} E[Î1-term]");
                Assertions.Close(e2, fisher, Tight, $"{problem} {name} E[Î2-term]");
                Assertions.Close(conditional[name, FisherQuantity.SquaredScoreVariance].Mean, v1, 1e-9, $"{problem} {name} V1", scale: fisherScale * fisherScale);
                Assertions.Close(conditional[name, FisherQuantity.NegativeHessianVariance].Mean, v2, 1e-9, $"{problem} {name} V2", scale: fisherScale * fisherScale);
                if (piecewiseLinear)
                    Assert.All(conditional[name, FisherQuantity.NegativeHessianVariance].Mean, v => Assert.Equal(0.0, v));
            }
        }
    }

    /// <summary>
    /// §10.1 items 4 and 5: V2 = 0 and Î2 = I(θ|x) for every draw in the last layer of smooth graphs, and for every
    /// parameter of piecewise-linear graphs; smooth graphs do have V2 &gt; 0 below the last layer (the zeros are no artefact).
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void NegativeHessianHasNoLabelVarianceWhereTheOutputIsLinearInTheParameter(string likelihood, bool piecewiseLinear)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var problem = Net(likelihood, piecewiseLinear);
        using var module = problem.BuildModule();
        using var graph = GraphProblem.BuildGraph(module, problem.Spec);
        string lastLayer = problem.Spec.Output.Name + ".";
        var estimator = new FisherEstimator(graph, problem.BuildLikelihood(), new EstimatorOptions
        {
            Quantities = FisherQuantity.NegativeHessian | FisherQuantity.Exact | FisherQuantity.NegativeHessianVariance,
            DrawsPerInput = 6,
            Seed = 5,
        });
        var x = problem.Inputs();
        var names = graph.Layout.Parameters.Select(p => p.Name).ToArray();
        for (int n = 0; n < problem.Batch; n++)
        {
            var m = estimator.Estimate(x[TensorIndex.Slice(n, n + 1)], null, n);
            foreach (var name in names.Where(p => piecewiseLinear || p.StartsWith(lastLayer, StringComparison.Ordinal)))
            {
                var fisher = m[name, FisherQuantity.Exact].Mean;
                double scale = fisher.Max(Math.Abs);
                Assert.All(m[name, FisherQuantity.NegativeHessianVariance].Mean, v => Assert.Equal(0.0, v));
                Assertions.Close(m[name, FisherQuantity.NegativeHessian].Mean, fisher, Tight, $"{problem} {name} Î2 mean over draws");
                Assert.All(m[name, FisherQuantity.NegativeHessian].M2, v => Assert.True(v <= 1e-13 * 6 * scale * scale, $"{problem} {name}: Î2 varies over draws (M2 {v})"));
            }
            if (!piecewiseLinear)
            {
                var hidden = names.Where(p => !p.StartsWith(lastLayer, StringComparison.Ordinal)).ToArray();
                Assert.All(new[] { "conv", "bn" }, kind => Assert.Contains(hidden.Where(p => p.StartsWith(kind, StringComparison.Ordinal)),
                    name => m[name, FisherQuantity.NegativeHessianVariance].Mean.Any(v => v > 0)));
            }
        }
    }

    /// <summary>One label as the drawn-label tensor of a single input and draw.</summary>
    private static Tensor Drawn(Likelihood likelihood, double[] label) =>
        likelihood.HasClassLabels
            ? tensor(new long[] { (long)label[0] }, new long[] { 1, 1 })
            : tensor(label, new long[] { 1, 1, label.Length }, ScalarType.Float64);
}
