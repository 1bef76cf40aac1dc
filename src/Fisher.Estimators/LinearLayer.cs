using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>One affine layer z = W a + b, with W of shape (out x in); owns its tensors.</summary>
public sealed class LinearLayer : IDisposable
{
    internal LinearLayer(string name, Tensor weight, Tensor bias)
    {
        Name = name;
        Weight = weight;
        Bias = bias;
        WeightSquared = weight.Sq().DetachFromDisposeScope();
    }

    /// <summary>The module name in the Sequential (e.g. <c>0</c>); parameters are <c>{Name}.weight</c> and <c>{Name}.bias</c>.</summary>
    public string Name { get; }

    /// <summary>Weight, out x in.</summary>
    public Tensor Weight { get; }

    /// <summary>Bias, out.</summary>
    public Tensor Bias { get; }

    /// <summary>Element-wise square of the weight, used by the residual shortcut of estimators.md §9.5b.</summary>
    internal Tensor WeightSquared { get; }

    /// <summary>Number of inputs.</summary>
    public int InputWidth => (int)Weight.shape[1];

    /// <summary>Number of outputs.</summary>
    public int OutputWidth => (int)Weight.shape[0];

    /// <summary>z = a Wᵀ + b for a batch of rows a.</summary>
    public Tensor Apply(Tensor a) => nn.functional.linear(a, Weight, Bias);

    /// <inheritdoc />
    public void Dispose()
    {
        Weight.Dispose();
        Bias.Dispose();
        WeightSquared.Dispose();
    }
}
