using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>What the backward passes need from one forward pass: layer inputs, σ', σ'' and the output f.</summary>
internal sealed class ForwardTrace
{
    private ForwardTrace(FeedForwardNetwork network, Tensor[] inputs, Tensor?[] first, Tensor?[] second, Tensor output)
    {
        Network = network;
        LayerInputs = inputs;
        FirstDerivative = first;
        SecondDerivative = second;
        Output = output;
    }

    public FeedForwardNetwork Network { get; }

    /// <summary>a^{l−1} for every layer l: the rows the layer multiplies, (batch, n_{l−1}).</summary>
    public Tensor[] LayerInputs { get; }

    /// <summary>σ'(z^l) for hidden layers (null for the output layer), (batch, n_l).</summary>
    public Tensor?[] FirstDerivative { get; }

    /// <summary>σ''(z^l) for hidden layers when requested; null where it is zero (piecewise-linear activations), (batch, n_l).</summary>
    public Tensor?[] SecondDerivative { get; }

    /// <summary>The network output f, (batch, outputs).</summary>
    public Tensor Output { get; }

    /// <summary>Runs the forward pass on validated inputs in the network's dtype.</summary>
    public static ForwardTrace Run(FeedForwardNetwork network, Tensor inputs, bool withSecond)
    {
        var layers = network.Layers;
        var layerInputs = new Tensor[layers.Count];
        var first = new Tensor?[layers.Count];
        var second = new Tensor?[layers.Count];
        var a = inputs;
        for (int l = 0; l < layers.Count; l++)
        {
            layerInputs[l] = a;
            var z = layers[l].Apply(a);
            if (l == layers.Count - 1)
                return new ForwardTrace(network, layerInputs, first, second, z);
            // σ'' of a piecewise-linear activation is zero almost everywhere: leave it null (no residual, §5.3d).
            var activation = network.Activations[l];
            (a, first[l], second[l]) = activation.Evaluate(z, withSecond && !activation.IsPiecewiseLinear);
        }
        throw new InvalidOperationException("unreachable: a network has at least one layer");
    }
}
