namespace Fisher.Estimators;

/// <summary>
/// Maps every parameter tensor of a network to its layer and to groups (like nngeometry's LayerCollection).
/// </summary>
public sealed class ParameterLayout
{
    internal ParameterLayout(IReadOnlyList<LinearLayer> layers)
    {
        var parameters = new List<ParameterInfo>();
        for (int l = 0; l < layers.Count; l++)
        {
            parameters.Add(new ParameterInfo($"{layers[l].Name}.weight", l, ParameterKind.Weight, [layers[l].OutputWidth, layers[l].InputWidth]));
            parameters.Add(new ParameterInfo($"{layers[l].Name}.bias", l, ParameterKind.Bias, [layers[l].OutputWidth]));
        }
        Parameters = parameters;
        LayerNames = layers.Select(l => l.Name).ToArray();
    }

    /// <summary>All parameter tensors in network order (weight then bias per layer).</summary>
    public IReadOnlyList<ParameterInfo> Parameters { get; }

    /// <summary>Module names of the Linear layers.</summary>
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
