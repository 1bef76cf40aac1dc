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
    /// Run the Gram products of the moment reduction in float64 even for a float32 network. By default (false) they
    /// run in the network's dtype: float64 networks get float64 products; float32 networks get float32 products over
    /// one batch, added into float64 sums across batches (estimators.md §9.6). That is 1.5–2x faster and, on the
    /// trained sample network, adds no more error than float32 compute itself (relative errors of mean and M2 below
    /// 1e-6, MomentPrecisionTests); the cancellation in S2 − S1²/n can only matter for nearly constant values
    /// (batch M2 error of order 1e-7·S2, i.e. 1e-7/CV² relative, CV the coefficient of variation).
    /// </summary>
    public bool DoublePrecisionMoments { get; init; }

    /// <summary>Names of the parameter tensors to compute (null: all). Only the layers they touch are computed.</summary>
    public IReadOnlyCollection<string>? Parameters { get; init; }

    /// <summary>
    /// Elements of the network dtype one pass of a layer graph may hold (traces, rows, gradients, forms); a batch whose
    /// inputs need more runs in parts of at least one input (default 2²⁶: 256 MB of float32). Not used by MLPs.
    /// </summary>
    public long WorkingElements { get; init; } = Graph.GraphBackend.DefaultWorkingElements;

    /// <summary>Throws <see cref="ArgumentException"/> naming every invalid field.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (DrawsPerInput < 1)
            errors.Add($"DrawsPerInput must be at least 1 (got {DrawsPerInput})");
        if (Quantities == FisherQuantity.None || (Quantities & ~FisherQuantity.Everything) != 0)
            errors.Add($"Quantities must name at least one known quantity (got {Quantities})");
        if (WorkingElements < 1)
            errors.Add($"WorkingElements must be at least 1 (got {WorkingElements})");
        if (Parameters is { Count: 0 })
            errors.Add("Parameters must be null (all) or name at least one parameter");
        if (errors.Count > 0)
            throw new ArgumentException("invalid estimator options: " + string.Join("; ", errors));
    }
}
