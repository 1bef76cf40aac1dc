using System.Globalization;

namespace Fisher.Results;

/// <summary>
/// The per-group table the CLI prints after a job: mean diagonal entry ± relative standard error of each estimate
/// present, and the decision (the same cell text as report.md's "lower variance").
/// </summary>
/// <param name="Title">What the numbers are.</param>
/// <param name="Headers">Column headers: group, parameters, one per estimate, and "lower var." when any group decided.</param>
/// <param name="Rows">One row of cells per group, in group order.</param>
/// <param name="Uncertainty">What the ± is and which variance it uses (<see cref="UncertaintyOf"/>).</param>
public sealed record ResultTable(string Title, IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyList<string>> Rows, string Uncertainty)
{
    /// <summary>The header of the decision column.</summary>
    public const string DecisionHeader = "lower var.";

    /// <summary>The table of <paramref name="result"/>.</summary>
    public static ResultTable Of(JobResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var groups = result.Summary.Groups;
        var estimates = result.PresentEstimates();
        bool decisions = groups.Any(g => g.Decision.Better is not null || g.Decision.IsTie());
        var headers = new List<string> { "group", "parameters" };
        headers.AddRange(estimates.Select(q => q.Symbol));
        if (decisions)
            headers.Add(DecisionHeader);
        var rows = groups.Select(g =>
        {
            var cells = new List<string> { g.Name, g.Size.ToString("N0", CultureInfo.InvariantCulture) };
            foreach (var q in estimates)
            {
                var value = g.Quantity(q);
                cells.Add(value is null ? NumberFormat.Missing
                    : value.RelativeStandardError is { } rse ? $"{NumberFormat.Format(value.MeanEstimate)} ±{NumberFormat.Percent(rse)}"
                    : NumberFormat.Format(value.MeanEstimate));
            }
            if (decisions)
                cells.Add(DecisionRule.Describe(g.Decision));
            return (IReadOnlyList<string>)cells;
        }).ToArray();
        return new ResultTable("mean diagonal entry per group ± relative standard error", headers, rows, UncertaintyOf(result.Summary));
    }

    /// <summary>
    /// One sentence for the CLI and report.md: the ± is the relative standard error for the Fisher of the input
    /// distribution, and the variance each estimate's comes from (summary.json's <c>variance</c>, <see cref="EstimateVariance"/>).
    /// </summary>
    public static string UncertaintyOf(SummaryFile summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var bases = QuantityCatalog.Estimates
            .Select(q => (q.Symbol, Basis: summary.Groups.Select(g => g.Quantity(q)?.Variance).FirstOrDefault(b => b is not null)))
            .Where(p => p.Basis is not null)
            .GroupBy(p => p.Basis, p => p.Symbol)
            .Select(g => $"{string.Join(", ", g)}: {g.Key}")
            .ToArray();
        return bases.Length == 0 ? ""
            : $"± is the relative standard error for the Fisher of the input distribution (docs/estimators.md §3.4); variances: {string.Join("; ", bases)}.";
    }
}
