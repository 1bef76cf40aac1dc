namespace Fisher.Results;

/// <summary>What a quantity of a result is, which decides what is derived from it and how it is shown.</summary>
public enum QuantityRole
{
    /// <summary>
    /// An estimate of the Fisher diagonal: written with <c>_var</c>, the variance of the estimate; its group gets a
    /// relative standard error and the inputs it needs (docs/estimators.md §7.1).
    /// </summary>
    Estimate,

    /// <summary>E_x of a closed-form conditional variance V(θ|x) of one estimator's per-sample term (§3.1).</summary>
    ConditionalVariance,

    /// <summary>E_x of a bound of a conditional variance (§4).</summary>
    Bound,

    /// <summary>A share of per-sample terms (§7.2): its mean is the share.</summary>
    Share,

    /// <summary>Per-input means of an estimate's K draws: only used to derive other results (§3.2), never written.</summary>
    InputMean,

    /// <summary>Third or fourth power of an estimate's per-input values: their means give the shape of the intervals (§3.5); never written.</summary>
    PowerSum,
}
