namespace Fisher.Results.Reports;

/// <summary>
/// A group's split of N·Var(Î) = Var_x I(θ|x) + E_x V(θ|x)/K (docs/estimators.md §3.2), averaged over the group's
/// parameters. <see cref="InputPart"/> is an unbiased estimate and may be negative.
/// </summary>
internal sealed record VarianceSplitStatistics(double InputPart, double LabelPart, int Draws, SplitSource Source)
{
    /// <summary>The label part's contribution to N·Var(Î): E_x V / K.</summary>
    public double LabelContribution => LabelPart / Draws;

    /// <summary>Share of N·Var(Î) due to the labels, with a negative input part counted as 0.</summary>
    public double LabelShare => LabelContribution / (Math.Max(0, InputPart) + LabelContribution);
}
