using Fisher.Estimators.Graph;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests.Graph;

/// <summary>The cost estimate of the graph estimator (docs/estimators.md §9.7) on a LeNet-5 with tanh or ReLU.</summary>
public sealed class CostTests(ITestOutputHelper output)
{
    [Fact]
    public void Second_order_work_comes_from_smooth_activations_and_is_named_by_layer()
    {
        TorchRuntime.Ensure();
        using var tanh = LeNet(Activation.Tanh);
        using var relu = LeNet(Activation.Relu);
        var all = new EstimatorOptions { Quantities = FisherQuantity.All, DrawsPerInput = 1 };
        var smooth = tanh.EstimateCost(all);
        var linear = relu.EstimateCost(all);
        foreach (var (layer, cost) in smooth.SecondOrderByLayer)
            output.WriteLine($"tanh LeNet: {layer} {cost:E3} multiply-adds per input");
        output.WriteLine($"tanh total {smooth.MultiplyAddsPerInput:E3}, second order {smooth.SecondOrderPerInput:E3}, {smooth.BytesPerInput} bytes per input, driving {smooth.DrivingLayer}; relu total {linear.MultiplyAddsPerInput:E3}");
        Assert.Equal(0, linear.SecondOrderPerInput);
        Assert.Empty(linear.SecondOrderByLayer);
        Assert.Equal("conv1", smooth.DrivingLayer); // the lowest layer sees the most curved units through convolutions
        Assert.True(smooth.SecondOrderPerInput > 10 * linear.MultiplyAddsPerInput);
        Assert.Equal(linear.MultiplyAddsPerInput, smooth.MultiplyAddsPerInput - smooth.SecondOrderPerInput, 6);
        // Î1 alone runs one drawn stream: about a tenth of the first-order work of the ten output streams.
        var i1 = tanh.EstimateCost(new EstimatorOptions { Quantities = FisherQuantity.SquaredScore });
        Assert.Equal(0, i1.SecondOrderPerInput);
        Assert.True(i1.MultiplyAddsPerInput < linear.MultiplyAddsPerInput / 4);
        // Restricting the parameters to the last layers removes the unit streams into the convolutions.
        var head = tanh.EstimateCost(all with { Parameters = ["fc3.weight", "fc3.bias", "fc2.weight"] });
        Assert.True(head.SecondOrderPerInput < smooth.SecondOrderPerInput / 100);
    }

    /// <summary>LeNet-5 on 1×28×28 (conv5-act-pool-conv5-act-pool-fc120-act-fc84-act-fc10) with random weights.</summary>
    internal static LayerGraph LeNet(Activation activation)
    {
        var layers = new List<LayerSpec>
        {
            new("conv1", LayerOp.Conv2d, ["input"]),
            new("act1", LayerOp.Activation, ["conv1"]) { Activation = activation },
            new("pool1", LayerOp.MaxPool2d, ["act1"]) { Kernel = [2, 2] },
            new("conv2", LayerOp.Conv2d, ["pool1"]),
            new("act2", LayerOp.Activation, ["conv2"]) { Activation = activation },
            new("pool2", LayerOp.MaxPool2d, ["act2"]) { Kernel = [2, 2] },
            new("flat", LayerOp.Flatten, ["pool2"]),
            new("fc1", LayerOp.Linear, ["flat"]),
            new("act3", LayerOp.Activation, ["fc1"]) { Activation = activation },
            new("fc2", LayerOp.Linear, ["act3"]),
            new("act4", LayerOp.Activation, ["fc2"]) { Activation = activation },
            new("fc3", LayerOp.Linear, ["act4"]),
        };
        var shapes = new Dictionary<string, long[]>
        {
            ["conv1.weight"] = [6, 1, 5, 5], ["conv1.bias"] = [6], ["conv2.weight"] = [16, 6, 5, 5], ["conv2.bias"] = [16],
            ["fc1.weight"] = [120, 256], ["fc1.bias"] = [120], ["fc2.weight"] = [84, 120], ["fc2.bias"] = [84], ["fc3.weight"] = [10, 84], ["fc3.bias"] = [10],
        };
        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(1);
        var tensors = shapes.ToDictionary(kv => kv.Key, kv => randn(kv.Value, ScalarType.Float32, generator: generator) * 0.1);
        return LayerGraph.Build(new NetworkSpec([1, 28, 28], layers), tensors, ScalarType.Float32);
    }
}
