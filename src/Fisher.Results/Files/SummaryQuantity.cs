namespace Fisher.Results;

/// <summary>One quantity of one group in summary.json.</summary>
public sealed record SummaryQuantity
{
    /// <summary>The stream's sample count (inputs, or inputs x draws for Î1 and Î2).</summary>
    public long Count { get; set; }

    /// <summary>Mean entry over the group's parameters.</summary>
    public double? MeanEstimate { get; set; }

    /// <summary>Estimates: ‖s.e.‖₂/‖Î‖₂ over the group's parameters, as an estimate of the input distribution's Fisher.</summary>
    public double? RelativeStandardError { get; set; }

    /// <summary>Estimates: the same as an estimate of the Fisher of the job's inputs (label noise only; 0 for the exact and empirical diagonals).</summary>
    public double? RelativeStandardErrorGivenInputs { get; set; }

    /// <summary>Estimates: where the variance behind <see cref="RelativeStandardError"/> comes from (<see cref="EstimateVariance"/>).</summary>
    public string? Variance { get; set; }

    /// <summary>Estimates: where the variance behind <see cref="RelativeStandardErrorGivenInputs"/> comes from.</summary>
    public string? VarianceGivenInputs { get; set; }

    /// <summary>Estimates: inputs for relative error ε with probability 1 − δ (Chebyshev, docs/estimators.md §7.1).</summary>
    public double? InputsNeeded { get; set; }
}
