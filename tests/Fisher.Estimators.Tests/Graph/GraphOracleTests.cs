using System.Globalization;
using Fisher.Estimators.Tests.Oracle;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests.Graph;

/// <summary>
/// Acceptance 1 on layer graphs: for every problem of <see cref="GraphProblems"/>, the estimator on the
/// <see cref="Fisher.Estimators.Graph.LayerGraph"/> built from a torch module's state_dict gives the batch sums and
/// sums of squares of every quantity that brute-force float64 autograd on that torch module gives, to 1e-9 relative
/// (<see cref="OracleComparison"/>). Each test prints its worst relative error per quantity.
/// </summary>
public sealed class GraphOracleTests(ITestOutputHelper output)
{
    public static TheoryData<GraphProblem> Problems()
    {
        var data = new TheoryData<GraphProblem>();
        foreach (var problem in GraphProblems.All())
            data.Add(problem);
        return data;
    }

    [Theory]
    [MemberData(nameof(Problems))]
    public void BatchSumsEqualBruteForceReference(GraphProblem problem)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        using var module = problem.BuildModule();
        using var graph = GraphProblem.BuildGraph(module, problem.Spec);
        var oracle = problem.BuildOracle(module);
        Assert.Equal(oracle.Names.Order(StringComparer.Ordinal), graph.Layout.Parameters.Select(p => p.Name).Order(StringComparer.Ordinal));
        var x = problem.Inputs();
        using (var f = graph.Forward(x))
        using (var reference = module.forward(x))
            Assertions.Close(f.flatten().data<double>().ToArray(), reference.detach().flatten().data<double>().ToArray(), 1e-12, $"{problem} f");
        var likelihood = problem.BuildLikelihood();
        var worst = OracleComparison.Check(problem.ToString(), oracle, options => new FisherEstimator(graph, likelihood, options), graph.Forward,
            likelihood, x, problem.ObservedLabels(), chainRule: true);
        output.WriteLine($"{problem} ({oracle.Count} parameters): worst relative error " +
            string.Join(", ", worst.Select(w => $"{w.Key.Key()} {w.Value.ToString("0.0e0", CultureInfo.InvariantCulture)}")));
    }

    /// <summary>
    /// The table is not vacuous: every smooth activation of every problem has σ'' clearly non-zero on some of its
    /// inputs (an ELU fed only positive values, for example, would add no curvature and test nothing of its rules).
    /// </summary>
    [Theory]
    [MemberData(nameof(Problems))]
    public void EverySmoothActivationOfTheTableIsCurved(GraphProblem problem)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        using var module = problem.BuildModule();
        using var graph = GraphProblem.BuildGraph(module, problem.Spec);
        var traces = Fisher.Estimators.Graph.GraphPasses.Forward(graph, problem.Inputs(), withSecond: true);
        for (int i = 0; i < traces.Length; i++)
        {
            if (graph.Nodes[i] is Fisher.Estimators.Graph.ActivationNode { Activation.IsPiecewiseLinear: false } node)
            {
                double largest = traces[i].Second!.abs().max().item<double>();
                double share = traces[i].Second!.abs().gt(1e-3).to(ScalarType.Float64).mean().item<double>();
                Assert.True(largest > 0.05 && share > 0.2, $"{problem}: activation '{node.Name}' has |σ''| up to {largest} and above 1e-3 on {share:P0} of its inputs");
            }
        }
    }

    /// <summary>The chain rule through f that the comparison uses equals autograd of the log-density itself on a residual BatchNorm CNN.</summary>
    [Theory]
    [InlineData("categorical")]
    [InlineData("poisson")]
    public void OracleChainRuleAgreesWithDirectAutograd(string likelihood)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var problem = GraphProblems.Likelihoods().First(p => p.Likelihood == likelihood);
        using var module = problem.BuildModule();
        var oracle = problem.BuildOracle(module);
        var x = problem.Inputs()[0];
        var (f, j, h) = oracle.NetworkDerivatives(x);
        foreach (var (label, _) in oracle.Labels(f).Take(3))
        {
            var (s1, n1) = oracle.Direct(x, label);
            var (s2, n2) = oracle.ChainRule(f, j, h, label);
            Assertions.Close(s2, s1, 1e-10, "score");
            Assertions.Close(n2, n1, 1e-10, "negative Hessian");
        }
    }
}
