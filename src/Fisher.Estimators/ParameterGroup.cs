namespace Fisher.Estimators;

/// <summary>A named set of parameter tensors whose quantities are computed and reported together.</summary>
public sealed record ParameterGroup(string Name, IReadOnlyList<ParameterInfo> Parameters)
{
    /// <summary>The lowest Linear layer index the group touches (backward passes stop there).</summary>
    public int LowestLayer => Parameters.Min(p => p.LayerIndex);

    /// <summary>Total number of scalar parameters.</summary>
    public long Size => Parameters.Sum(p => (long)p.Size);
}
