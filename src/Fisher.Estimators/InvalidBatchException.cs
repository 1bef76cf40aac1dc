namespace Fisher.Estimators;

/// <summary>A batch (inputs or labels) that the estimator cannot use; the message names the field and what was expected.</summary>
public sealed class InvalidBatchException(string field, string message) : ArgumentException($"{field}: {message}", field)
{
    /// <summary>The offending field, e.g. <c>inputs</c> or <c>labels</c>.</summary>
    public string Field { get; } = field;
}

/// <summary>A network layer that has no estimator rule; the message names the layer and the supported kinds.</summary>
public sealed class UnsupportedLayerException(string layer, string kind)
    : NotSupportedException($"layer '{layer}' is a {kind}, which has no Fisher rule; supported: Linear and the element-wise activations {string.Join(", ", Activation.SupportedNames)}")
{
    /// <summary>The name of the offending layer (its module name).</summary>
    public string Layer { get; } = layer;
}

/// <summary>A network or likelihood definition that is inconsistent (shapes, dtypes, output width).</summary>
public sealed class InvalidNetworkException(string message) : ArgumentException(message);
