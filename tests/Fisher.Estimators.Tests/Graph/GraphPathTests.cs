using Fisher.Estimators.Graph;
using Fisher.Estimators.Tests.Oracle;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests.Graph;

/// <summary>
/// The graph path and the fused MLP path are two independent implementations of every quantity (the graph path
/// pulls curvature through Linear layers by unit streams, the MLP path by W∘² and carried factors, §9.5b): on MLPs
/// they must agree to rounding.
/// </summary>
public sealed class GraphPathTests
{
    public static TheoryData<Problem> Problems()
    {
        var data = new TheoryData<Problem>
        {
            new("tanh", [3, 4, 3, 3], "categorical", Seed: 2),
            new("sigmoid", [3, 3, 4, 3, 2], "gaussian", Seed: 3),
            new("relu,tanh", [3, 4, 3, 3, 3], "categorical", Seed: 6),
            new("softplus", [3, 4, 2], "poisson", Seed: 7),
            new("gelu", [3, 4, 3, 2], "bernoulli", Seed: 8),
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(Problems))]
    public void An_MLP_as_a_graph_gives_the_moments_of_the_fused_path(Problem problem)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var sequential = problem.BuildSequential();
        using var network = FeedForwardNetwork.FromSequential(sequential);
        using var graph = GraphOf(problem, sequential);
        var likelihood = problem.BuildLikelihood();
        var x = problem.Inputs();
        var y = problem.ObservedLabels();
        foreach (var draws in new[] { 1, 5 })
        {
            var options = new EstimatorOptions { Quantities = FisherQuantity.Everything, DrawsPerInput = draws, Seed = 3 };
            var fused = new FisherEstimator(network, likelihood, options).Estimate(x, y, 5);
            var general = new FisherEstimator(graph, likelihood, options).Estimate(x, y, 5);
            Assert.Equal(fused.Streams.Count, general.Streams.Count);
            foreach (var (key, m) in fused.Streams)
            {
                var g = general.Streams[key];
                Assert.Equal(m.Count, g.Count);
                double scale = m.Mean.Select(Math.Abs).DefaultIfEmpty(0).Max();
                Assertions.Close(g.Mean, m.Mean, 1e-9, $"{problem} K={draws} {key} mean", floor: 1e-12, scale: Math.Max(scale, 1e-300));
                Assertions.Close(g.M2, m.M2, 1e-8, $"{problem} K={draws} {key} M2", floor: 1e-12);
            }
        }
    }

    /// <summary>The problem's Sequential as a graph: Linear and Activation layers named as in the Sequential.</summary>
    internal static LayerGraph GraphOf(Problem problem, nn.Module<Tensor, Tensor> sequential)
    {
        var layers = new List<LayerSpec>();
        string previous = NetworkSpec.InputName;
        foreach (var (name, module) in sequential.named_children())
        {
            var spec = module is TorchSharp.Modules.Linear
                ? new LayerSpec(name, LayerOp.Linear, [previous])
                : new LayerSpec(name, LayerOp.Activation, [previous]) { Activation = ActivationOf(module) };
            layers.Add(spec);
            previous = name;
        }
        var tensors = sequential.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        return LayerGraph.Build(new NetworkSpec([problem.Widths[0]], layers), tensors, ScalarType.Float64);
    }

    private static Activation ActivationOf(nn.Module module) => module switch
    {
        TorchSharp.Modules.ReLU => Activation.Relu,
        TorchSharp.Modules.Tanh => Activation.Tanh,
        TorchSharp.Modules.Sigmoid => Activation.Sigmoid,
        TorchSharp.Modules.Softplus => Activation.Softplus,
        TorchSharp.Modules.GELU => Activation.Gelu,
        TorchSharp.Modules.SiLU => Activation.Silu,
        TorchSharp.Modules.LeakyReLU l => Activation.LeakyRelu(l.negative_slope),
        _ => Activation.Identity,
    };
}
