namespace Fisher.Estimators;

/// <summary>
/// Maps every parameter tensor of a network to its layer and to groups (like nngeometry's LayerCollection).
/// </summary>
public sealed class ParameterLayout
{
    internal ParameterLayout(IReadOnlyList<LinearLayer> layers)
        : this(layers.Select(l => (l.Name, new[]
        {
            ($"{l.Name}.weight", ParameterKind.Weight, new long[] { l.OutputWidth, l.InputWidth }),
            ($"{l.Name}.bias", ParameterKind.Bias, new long[] { l.OutputWidth }),
        })).ToArray())
    {
    }

    /// <summary>From the layers that have parameters, in network order, each with its named tensors.</summary>
    internal ParameterLayout(IReadOnlyList<(string Layer, (string Name, ParameterKind Kind, long[] Shape)[] Tensors)> layers)
    {
        var parameters = new List<ParameterInfo>();
        for (int l = 0; l < layers.Count; l++)
        {
            foreach (var (name, kind, shape) in layers[l].Tensors)
                parameters.Add(new ParameterInfo(name, l, kind, shape));
        }
        if (parameters.Select(p => p.Name).Distinct(StringComparer.Ordinal).Count() != parameters.Count)
            throw new InvalidNetworkException("two layers name the same parameter tensor");
        Parameters = parameters;
        LayerNames = layers.Select(l => l.Layer).ToArray();
    }

    /// <summary>All parameter tensors in network order (weight then bias per layer).</summary>
    public IReadOnlyList<ParameterInfo> Parameters { get; }

    /// <summary>Module names of the layers with parameters.</summary>
    public IReadOnlyList<string> LayerNames { get; }

    /// <summary>Total number of scalar parameters.</summary>
    public long Size => Parameters.Sum(p => (long)p.Size);

    /// <summary>The parameter with this name; throws naming the known parameters otherwise.</summary>
    public ParameterInfo this[string name] =>
        Parameters.FirstOrDefault(p => p.Name == name)
        ?? throw new ArgumentException($"unknown parameter '{name}'; the network has {string.Join(", ", Parameters.Select(p => p.Name))}", nameof(name));

    /// <summary>The groups of a grouping, in network order. Per-layer groups are named <c>layer{i}</c> (1-based).</summary>
    public IReadOnlyList<ParameterGroup> Groups(Grouping grouping) => grouping switch
    {
        Grouping.PerLayer => Parameters.GroupBy(p => p.LayerIndex)
            .Select(g => new ParameterGroup($"layer{g.Key + 1}", g.ToArray())).ToArray(),
        Grouping.PerTensor => Parameters.Select(p => new ParameterGroup(p.Name, [p])).ToArray(),
        Grouping.All => [new ParameterGroup("all", Parameters)],
        _ => throw new ArgumentOutOfRangeException(nameof(grouping), grouping, "unknown grouping"),
    };

    /// <summary>The group of all parameters.</summary>
    public ParameterGroup All => Groups(Grouping.All)[0];
}
