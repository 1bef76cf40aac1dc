namespace Fisher.Estimators;

/// <summary>What a <see cref="FisherEstimator"/> computes.</summary>
public sealed record EstimatorOptions
{
    /// <summary>The quantities to stream (default: Î1, Î2 and the exact diagonal).</summary>
    public FisherQuantity Quantities { get; init; } = FisherQuantity.SquaredScore | FisherQuantity.NegativeHessian | FisherQuantity.Exact;

    /// <summary>Label draws per input for Î1 and Î2 (K ≥ 1).</summary>
    public int DrawsPerInput { get; init; } = 1;

    /// <summary>Seed of the counter-based label draws.</summary>
    public ulong Seed { get; init; }

    /// <summary>
    /// Run the Gram products of the moment reduction in float64 (default; estimators.md §9.6). When false they run
    /// in the network's dtype and only the merge is float64: about twice as fast for float32 networks, with batch
    /// M2 relative errors of order 1e-7/CV² (CV: coefficient of variation of the per-sample values).
    /// </summary>
    public bool DoublePrecisionMoments { get; init; } = true;

    /// <summary>Names of the parameter tensors to compute (null: all). Only the layers they touch are computed.</summary>
    public IReadOnlyCollection<string>? Parameters { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming every invalid field.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (DrawsPerInput < 1)
            errors.Add($"DrawsPerInput must be at least 1 (got {DrawsPerInput})");
        if (Quantities == FisherQuantity.None || (Quantities & ~FisherQuantity.Everything) != 0)
            errors.Add($"Quantities must name at least one known quantity (got {Quantities})");
        if (Parameters is { Count: 0 })
            errors.Add("Parameters must be null (all) or name at least one parameter");
        if (errors.Count > 0)
            throw new ArgumentException("invalid estimator options: " + string.Join("; ", errors));
    }
}
