namespace Fisher.Estimators.Graph;

/// <summary>
/// One layer of a network graph: its module name (parameters are named <c>{Name}.weight</c>, <c>{Name}.bias</c>,
/// and for BatchNorm also <c>{Name}.running_mean</c>, <c>{Name}.running_var</c>, unless <see cref="Tensors"/> names
/// them), its kind, the layers it reads (<see cref="NetworkSpec.InputName"/> for the network input) and the
/// attributes of its kind. Spatial attributes list one value per spatial dimension (one for Conv1d, two for the
/// 2-d layers); null means PyTorch's default. Channel counts and features come from the weights.
/// </summary>
public sealed record LayerSpec(string Name, LayerOp Op, IReadOnlyList<string> Inputs)
{
    /// <summary>Kernel size (Conv: from the weight when null; pools: required).</summary>
    public IReadOnlyList<int>? Kernel { get; init; }

    /// <summary>Stride (Conv: 1; MaxPool2d, AvgPool2d: the kernel size).</summary>
    public IReadOnlyList<int>? Stride { get; init; }

    /// <summary>Zero padding on both sides (default 0).</summary>
    public IReadOnlyList<int>? Padding { get; init; }

    /// <summary>Dilation (Conv, MaxPool2d; default 1).</summary>
    public IReadOnlyList<int>? Dilation { get; init; }

    /// <summary>Groups of a convolution (default 1).</summary>
    public int Groups { get; init; } = 1;

    /// <summary>Whether the layer has a bias (Linear, Conv) or an affine weight and bias (BatchNorm).</summary>
    public bool Bias { get; init; } = true;

    /// <summary>Output size of AdaptiveAvgPool2d.</summary>
    public IReadOnlyList<int>? OutputSize { get; init; }

    /// <summary>ε of BatchNorm (default 1e-5).</summary>
    public double Epsilon { get; init; } = 1e-5;

    /// <summary>AvgPool2d: whether the zero padding counts in the divisor (PyTorch's default true).</summary>
    public bool CountIncludePad { get; init; } = true;

    /// <summary>The activation of an <see cref="LayerOp.Activation"/> layer.</summary>
    public Activation? Activation { get; init; }

    /// <summary>
    /// Tensor names by role (<c>weight</c>, <c>bias</c>, <c>running_mean</c>, <c>running_var</c>) where they differ from
    /// <c>{Name}.{role}</c>, e.g. ONNX initializers; null: the default names.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Tensors { get; init; }

    /// <summary>The name of the tensor of <paramref name="role"/>.</summary>
    public string TensorName(string role) =>
        Tensors is not null && Tensors.TryGetValue(role, out var name) ? name : $"{Name}.{role}";
}
