namespace Fisher.Estimators.Graph;

/// <summary>
/// The layer kinds a <see cref="NetworkSpec"/> can hold, each with one rule in <see cref="LayerRules"/>
/// (docs/estimators.md §9.7). Names follow PyTorch's modules; BatchNorm is in evaluation mode, Dropout is
/// <see cref="Identity"/> at evaluation.
/// </summary>
public enum LayerOp
{
    /// <summary>z = W a + b on flat inputs (batch, in); weight (out, in), bias (out) optional.</summary>
    Linear,

    /// <summary>Convolution over (channels, length); weight (out, in/groups, k).</summary>
    Conv1d,

    /// <summary>Convolution over (channels, height, width); weight (out, in/groups, kh, kw).</summary>
    Conv2d,

    /// <summary>Max pooling over (channels, height, width).</summary>
    MaxPool2d,

    /// <summary>Average pooling over (channels, height, width).</summary>
    AvgPool2d,

    /// <summary>Adaptive average pooling to a fixed output size; (1, 1) is global average pooling.</summary>
    AdaptiveAvgPool2d,

    /// <summary>Flattens every dimension after the batch into one.</summary>
    Flatten,

    /// <summary>Batch normalisation in evaluation mode over dimension 1 (BatchNorm1d and BatchNorm2d): an affine map per channel.</summary>
    BatchNorm,

    /// <summary>The sum of two inputs of one shape (a residual connection).</summary>
    Add,

    /// <summary>The input unchanged (Identity, and Dropout at evaluation).</summary>
    Identity,

    /// <summary>An element-wise activation (<see cref="LayerSpec.Activation"/>).</summary>
    Activation,
}
