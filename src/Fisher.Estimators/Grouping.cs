namespace Fisher.Estimators;

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
