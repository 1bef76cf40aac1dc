namespace Fisher.Estimators.Graph;

/// <summary>
/// A network as a directed acyclic graph of layers in topological order (every layer reads only the network input
/// or earlier layers), ending in the layer that produces the natural parameters f (the last one). The per-sample
/// input shape is (features) for a flat input, (channels, length) or (channels, height, width). One typed record,
/// written by the ONNX importer and the architecture JSON and read by <see cref="LayerGraph.Build"/>.
/// </summary>
public sealed record NetworkSpec(IReadOnlyList<long> InputShape, IReadOnlyList<LayerSpec> Layers)
{
    /// <summary>The name by which a layer reads the network input.</summary>
    public const string InputName = "input";

    /// <summary>The names of every tensor the layers read (parameters and BatchNorm's running statistics).</summary>
    public IReadOnlySet<string> TensorNames() =>
        Layers.SelectMany(l => LayerRules.Roles(l).Select(l.TensorName)).ToHashSet(StringComparer.Ordinal);

    /// <summary>The last layer: its output is f.</summary>
    public LayerSpec Output => Layers[^1];

    /// <summary>
    /// Checks names and wiring (not shapes; <see cref="LayerGraph.Build"/> checks those against the weights): every
    /// layer has a unique name, reads one input (two for Add) that is the network input or an earlier layer, and every
    /// layer but the last is read by some layer. Throws <see cref="InvalidNetworkException"/> naming the layer.
    /// </summary>
    public void Validate()
    {
        if (InputShape.Count is < 1 or > 3 || InputShape.Any(d => d < 1))
            throw new InvalidNetworkException($"input shape [{string.Join(", ", InputShape)}]: expected 1 to 3 positive dimensions (features; channels, length; or channels, height, width)");
        if (Layers.Count == 0)
            throw new InvalidNetworkException("the network has no layers");
        var seen = new HashSet<string>(StringComparer.Ordinal) { InputName };
        var read = new HashSet<string>(StringComparer.Ordinal);
        foreach (var layer in Layers)
        {
            if (string.IsNullOrEmpty(layer.Name) || layer.Name.Length > 200)
                throw new InvalidNetworkException("a layer has an empty or over-long name");
            if (!seen.Add(layer.Name))
                throw new InvalidNetworkException($"layer '{layer.Name}': the name is used twice (or is the reserved name '{InputName}')");
            int expected = layer.Op == LayerOp.Add ? 2 : 1;
            if (layer.Inputs.Count != expected)
                throw new InvalidNetworkException($"layer '{layer.Name}': a {layer.Op} reads {expected} input(s), got {layer.Inputs.Count}");
            foreach (var input in layer.Inputs)
            {
                if (!seen.Contains(input) || input == layer.Name)
                    throw new InvalidNetworkException($"layer '{layer.Name}': reads '{input}', which is neither the network input nor an earlier layer");
                read.Add(input);
            }
            if (layer.Op == LayerOp.Activation && layer.Activation is null)
                throw new InvalidNetworkException($"layer '{layer.Name}': an Activation layer needs its activation kind");
        }
        var unread = Layers.Take(Layers.Count - 1).FirstOrDefault(l => !read.Contains(l.Name));
        if (unread is not null)
            throw new InvalidNetworkException($"layer '{unread.Name}': its output is never read; only the last layer may be the output");
    }
}
