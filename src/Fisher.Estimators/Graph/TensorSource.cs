using static TorchSharp.torch;

namespace Fisher.Estimators.Graph;

/// <summary>
/// The named tensors a graph is built from (a state_dict, safetensors or ONNX initializers): each layer takes its
/// tensors by name, checked for shape and finiteness, copied into the network dtype (the graph owns its copies).
/// </summary>
internal sealed class TensorSource(IReadOnlyDictionary<string, Tensor> tensors, ScalarType dtype)
{
    public ScalarType DType { get; } = dtype;

    /// <summary>The tensor of <paramref name="role"/> for <paramref name="layer"/>, or null when absent and optional.</summary>
    public Tensor? Take(LayerSpec layer, string role, bool required)
    {
        if (!LayerRules.Roles(layer).Contains(role))
            throw new InvalidOperationException($"layer '{layer.Name}': its rule reads '{role}', which LayerRules.Roles does not list");
        var name = layer.TensorName(role);
        if (!tensors.TryGetValue(name, out var t))
        {
            if (required)
                throw new InvalidNetworkException($"layer '{layer.Name}': tensor '{name}' is missing from the weights");
            return null;
        }
        if (!t.is_floating_point())
            throw new InvalidNetworkException($"tensor '{name}': expected floating-point values, got {t.dtype}");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var own = t.detach().to(DType).clone().contiguous();
        if (!own.isfinite().all().item<bool>())
            throw new InvalidNetworkException($"tensor '{name}': contains NaN or infinity");
        return own.DetachFromDisposeScope();
    }

    /// <summary>Checks a tensor's shape, disposing it and naming the tensor when it differs.</summary>
    public static Tensor Expect(Tensor t, LayerSpec layer, string role, params long[] shape)
    {
        if (!t.shape.SequenceEqual(shape))
        {
            var actual = string.Join(", ", t.shape);
            t.Dispose();
            throw new InvalidNetworkException($"tensor '{layer.TensorName(role)}': expected shape [{string.Join(", ", shape)}], got [{actual}]");
        }
        return t;
    }
}
