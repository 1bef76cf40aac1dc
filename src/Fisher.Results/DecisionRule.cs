using Fisher.Estimators;

namespace Fisher.Results;

/// <summary>
/// The one rule that says which of Î1 and Î2 a parameter group should use: the one whose label variance E_x V(θ|x),
/// averaged over the group's entries, is lower. The input part Var_x I(θ|x) of their variances is the same for both
/// (docs/estimators.md §3.2), so only the label parts can differ. Where the label variances come from, in order:
/// <list type="number">
/// <item>the closed-form E_x V1 and E_x V2, when the job computed <c>v1</c> and <c>v2</c>;</item>
/// <item>with K ≥ 2 draws per input, the label parts estimated from the draws (one-way analysis of variance, §3.2);</item>
/// <item>else the sample variances of the per-sample Î1 and Î2 terms, Var_x I + E_x V: their difference is the
/// difference of the label parts up to sampling error.</item>
/// </list>
/// Equal label variances are a tie (no better estimator); so is a comparison in which either side is unknown.
/// </summary>
internal static class DecisionRule
{
    public const string ClosedFormBasis = "closed-form E_x V1, E_x V2";
    public const string DrawsBasis = "label parts E_x V estimated from the K draws per input";
    public const string TermsBasis = "empirical variances of the Î1 and Î2 terms";
    public const string MissingBasis = "needs i1 and i2 (or v1 and v2)";

    /// <summary>Decides for one group of merged moments.</summary>
    public static GroupDecision Decide(GroupMoments group, double epsilon, double delta)
    {
        ArgumentNullException.ThrowIfNull(group);
        QuantityInfo i1 = QuantityCatalog.SquaredScore, i2 = QuantityCatalog.NegativeHessian;
        if (group.Has(i1.ConditionalVarianceStream) && group.Has(i2.ConditionalVarianceStream))
            return Compare(MeanOver(group, i1.ConditionalVarianceStream, (m, i) => m.Mean[i]),
                MeanOver(group, i2.ConditionalVarianceStream, (m, i) => m.Mean[i]), ClosedFormBasis, epsilon, delta);
        if (group.Has(i1.Stream) && group.Has(i2.Stream) && group.Has(i1.InputMeanStream) && group.Has(i2.InputMeanStream))
            return Compare(LabelPart(group, i1), LabelPart(group, i2), DrawsBasis, epsilon, delta);
        if (group.Has(i1.Stream) && group.Has(i2.Stream))
            return Compare(MeanOver(group, i1.Stream, TermVariance), MeanOver(group, i2.Stream, TermVariance), TermsBasis, epsilon, delta);
        return new GroupDecision { Basis = MissingBasis, Epsilon = epsilon, Delta = delta };
    }

    /// <summary>
    /// A decision as every table shows it: the better estimator's symbol with the ratio lower/higher of the label
    /// variances ("Î2 (V2 = 0)" when the better one's is 0), "tie", or "–".
    /// </summary>
    public static string Describe(GroupDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        if (decision.IsTie())
            return "tie";
        if (decision.Better is null || QuantityCatalog.Find(decision.Better) is not { } better)
            return NumberFormat.Missing;
        return decision.Ratio() is 0 && QuantityCatalog.VarianceOf(better) is { } v ? $"{better.Symbol} ({v.Symbol} = 0)"
            : decision.Ratio() is { } ratio ? $"{better.Symbol} ({NumberFormat.Format(ratio)}×)" : better.Symbol;
    }

    private static GroupDecision Compare(double v1, double v2, string basis, double epsilon, double delta)
    {
        string? better = !double.IsFinite(v1) || !double.IsFinite(v2) || v1 == v2 ? null
            : v2 < v1 ? QuantityCatalog.NegativeHessian.Key : QuantityCatalog.SquaredScore.Key;
        return new GroupDecision
        {
            Better = better, Basis = basis, LabelVarianceI1 = Finite(v1), LabelVarianceI2 = Finite(v2), Epsilon = epsilon, Delta = delta,
        };
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private static double TermVariance(Moments m, int i) => m.Count > 1 ? m.M2[i] / (m.Count - 1) : double.NaN;

    /// <summary>
    /// The mean of <paramref name="value"/> over the group's entries: summed per parameter, then over parameters (this
    /// order of additions is part of the result: summary.json's numbers are reproduced bit for bit).
    /// </summary>
    private static double MeanOver(GroupMoments group, FisherQuantity quantity, Func<Moments, int, double> value) =>
        group.Parameters.Sum(p => { var m = group.Streams[quantity.StreamName(p)]; return Enumerable.Range(0, m.Length).Sum(i => value(m, i)); })
        / group.Parameters.Sum(p => (double)group.Streams[quantity.StreamName(p)].Length);

    /// <summary>The label/input split of one parameter's estimate from its K ≥ 2 draws (§3.2).</summary>
    internal static VarianceSplit Split(GroupMoments group, QuantityInfo estimate, string parameter)
    {
        var terms = group.Streams[estimate.StreamName(parameter)];
        var means = group.Streams[estimate.InputMeanStream.StreamName(parameter)];
        return VarianceSplit.Compute(terms, means, (int)(terms.Count / Math.Max(1, means.Count)));
    }

    private static double LabelPart(GroupMoments group, QuantityInfo estimate)
    {
        var parts = group.Parameters.Select(p => Split(group, estimate, p).LabelPart).ToArray();
        return parts.Sum(part => part.Sum()) / parts.Sum(part => (double)part.Length);
    }
}
