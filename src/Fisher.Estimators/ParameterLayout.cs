namespace Fisher.Estimators;

/// <summary>Whether a parameter tensor is a layer's weight or its bias.</summary>
public enum ParameterKind
{
    Weight,
    Bias,
}

/// <summary>One parameter tensor of the network: its PyTorch name, the index of its Linear layer, kind and shape.</summary>
public sealed record ParameterInfo(string Name, int LayerIndex, ParameterKind Kind, long[] Shape)
{
    /// <summary>Number of scalar parameters in the tensor.</summary>
    public int Size => (int)Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>How parameters are grouped for reporting and for distributing work (docs/architecture.md, decision 6).</summary>
public enum Grouping
{
    /// <summary>One group per Linear layer, weight and bias together (the default).</summary>
    PerLayer,

    /// <summary>One group per parameter tensor.</summary>
    PerTensor,

    /// <summary>All parameters in one group.</summary>
    All,
}

/// <summary>A named set of parameter tensors whose quantities are computed and reported together.</summary>
public sealed record ParameterGroup(string Name, IReadOnlyList<ParameterInfo> Parameters)
{
    /// <summary>The lowest Linear layer index the group touches (backward passes stop there).</summary>
    public int LowestLayer => Parameters.Min(p => p.LayerIndex);

    /// <summary>Total number of scalar parameters.</summary>
    public long Size => Parameters.Sum(p => (long)p.Size);
}

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
