namespace Fisher.Estimators;

/// <summary>A network layer that has no estimator rule; the message names the layer and the supported kinds.</summary>
public sealed class UnsupportedLayerException(string layer, string kind)
    : NotSupportedException($"layer '{layer}' is a {kind}, which has no Fisher rule; supported: Linear and the element-wise activations {string.Join(", ", Activation.SupportedNames)}")
{
    /// <summary>The name of the offending layer (its module name).</summary>
    public string Layer { get; } = layer;
}
