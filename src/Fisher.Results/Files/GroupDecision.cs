namespace Fisher.Results;

/// <summary>
/// Which estimator a group should use (<see cref="DecisionRule"/>), as summary.json states it: <see cref="Better"/>
/// is the key of the estimator with the lower label variance, null on a tie or when the basis is missing.
/// </summary>
public sealed record GroupDecision
{
    /// <summary>The key of Î1 or Î2, or null.</summary>
    public string? Better { get; set; }

    /// <summary>Which quantities were compared.</summary>
    public string Basis { get; set; } = "";

    /// <summary>The compared label variance of Î1, averaged over the group's entries (null: unknown).</summary>
    public double? LabelVarianceI1 { get; set; }

    /// <summary>The same for Î2.</summary>
    public double? LabelVarianceI2 { get; set; }

    /// <summary>ε of the group's sample sizes.</summary>
    public double Epsilon { get; set; }

    /// <summary>δ of the group's sample sizes.</summary>
    public double Delta { get; set; }

    /// <summary>Both label variances are known and equal.</summary>
    public bool IsTie() => Better is null && LabelVarianceI1 is { } a && a == LabelVarianceI2;

    /// <summary>The lower label variance over the higher one (0 when the better estimator's is 0), null without a decision.</summary>
    public double? Ratio() => Better is null || LabelVarianceI1 is not { } a || LabelVarianceI2 is not { } b ? null : Math.Min(a, b) / Math.Max(a, b);
}
