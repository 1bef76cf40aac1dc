namespace Fisher.Estimators;

/// <summary>The dtype a network computes in; moments are always float64 (docs/estimators.md §9.6).</summary>
public enum ComputeDType
{
    /// <summary>float32: each batch's Gram products in float32, summed across batches in float64.</summary>
    Float32,

    /// <summary>float64 throughout.</summary>
    Float64,
}
