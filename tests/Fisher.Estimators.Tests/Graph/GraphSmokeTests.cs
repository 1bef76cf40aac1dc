using Fisher.Estimators.Graph;
using Fisher.Estimators.Tests.Oracle;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests.Graph;

/// <summary>
/// A first check of the graph path on a tiny smooth CNN (conv, tanh, max-pool, conv, SiLU, flatten, Linear) against the
/// brute-force oracle: the exact diagonal and V2 (which needs the curvature of both activations through a convolution,
/// i.e. unit streams), and the per-sample gradients against autograd.
/// </summary>
public sealed class GraphSmokeTests
{
    [Fact]
    public void Exact_diagonal_and_V2_of_a_tiny_CNN_equal_the_oracle()
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var (module, graph) = TinyCnn();
        using (graph)
        {
            var likelihood = Likelihood.Create("categorical", 3, 1.0);
            var x = randn([3, 2, 6, 6], ScalarType.Float64, generator: new Generator(5));
            var options = new EstimatorOptions { Quantities = FisherQuantity.Exact | FisherQuantity.NegativeHessianVariance | FisherQuantity.SquaredScoreVariance, Seed = 1 };
            var moments = new FisherEstimator(graph, likelihood, options).Estimate(x, null, 0);
            var oracle = new BruteForceOracle(module, "categorical", 1.0);
            var exact = new double[oracle.Count];
            var v2 = new double[oracle.Count];
            var v1 = new double[oracle.Count];
            for (int n = 0; n < 3; n++)
            {
                var terms = oracle.Exact(x[n]);
                for (int i = 0; i < oracle.Count; i++)
                {
                    exact[i] += terms.Fisher[i];
                    v2[i] += terms.HessianVariance[i];
                    v1[i] += terms.ScoreVariance[i];
                }
            }
            foreach (var name in oracle.Names)
            {
                // V1 and V2 vanish in places (the output layer's V2), where the oracle keeps rounding noise of I².
                double scale = Math.Pow(oracle.Slice(exact, name).Max(), 2);
                Assertions.Close(moments[name, FisherQuantity.Exact].Sum(), oracle.Slice(exact, name), 1e-9, $"{name}.exact", floor: 1e-12);
                Assertions.Close(moments[name, FisherQuantity.SquaredScoreVariance].Sum(), oracle.Slice(v1, name), 1e-9, $"{name}.v1", floor: 1e-11, scale: scale);
                Assertions.Close(moments[name, FisherQuantity.NegativeHessianVariance].Sum(), oracle.Slice(v2, name), 1e-9, $"{name}.v2", floor: 1e-11, scale: scale);
            }
            Assert.Contains(oracle.Slice(v2, "0.weight"), v => v > 1e-6); // the first conv sees curvature from above
        }
    }

    [Fact]
    public void Per_sample_gradients_equal_autograd()
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var (module, graph) = TinyCnn();
        using (graph)
        {
            var x = randn([2, 2, 6, 6], ScalarType.Float64, generator: new Generator(6));
            var streams = eye(3, dtype: ScalarType.Float64).unsqueeze(0).expand(2, 3, 3);
            var ours = graph.PerSampleGradients(x, streams);
            var parameters = module.named_parameters().ToArray();
            for (int n = 0; n < 2; n++)
            {
                for (int o = 0; o < 3; o++)
                {
                    module.zero_grad();
                    module.forward(x[n].unsqueeze(0))[0, o].backward();
                    foreach (var (name, p) in parameters)
                        Assertions.Close(ours[name][n, o].reshape(-1).data<double>().ToArray(), p.grad!.reshape(-1).data<double>().ToArray(), 1e-12, $"{name}[{n},{o}]");
                }
            }
        }
    }

    private static (nn.Module<Tensor, Tensor> Module, LayerGraph Graph) TinyCnn()
    {
        var module = nn.Sequential(
            ("0", nn.Conv2d(2, 3, 3, padding: 1, dtype: ScalarType.Float64)),
            ("1", nn.Tanh()),
            ("2", nn.MaxPool2d(2)),
            ("3", nn.Conv2d(3, 2, 2, stride: 1, dtype: ScalarType.Float64)),
            ("4", nn.SiLU()),
            ("5", nn.Flatten()),
            ("6", nn.Linear(8, 3, dtype: ScalarType.Float64)));
        using (no_grad())
        {
            var generator = new Generator(3);
            foreach (var p in module.parameters())
                p.copy_(randn(p.shape, ScalarType.Float64, generator: generator) * 0.8);
        }
        var spec = new NetworkSpec([2, 6, 6],
        [
            new("0", LayerOp.Conv2d, ["input"]) { Padding = [1, 1] },
            new("1", LayerOp.Activation, ["0"]) { Activation = Activation.Tanh },
            new("2", LayerOp.MaxPool2d, ["1"]) { Kernel = [2, 2] },
            new("3", LayerOp.Conv2d, ["2"]),
            new("4", LayerOp.Activation, ["3"]) { Activation = Activation.Silu },
            new("5", LayerOp.Flatten, ["4"]),
            new("6", LayerOp.Linear, ["5"]),
        ]);
        var tensors = module.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        return (module, LayerGraph.Build(spec, tensors, ScalarType.Float64));
    }
}
