using System.Globalization;
using System.Text;

namespace Fisher.Data.Reports;

/// <summary>What <see cref="ReportWriter.Write"/> wrote.</summary>
/// <param name="ReportPath">The full path of report.md.</param>
/// <param name="Plots">The PNG files written (full paths), in report order.</param>
/// <param name="Skipped">One line per plot not drawn, saying why.</param>
public sealed record ReportResult(string ReportPath, IReadOnlyList<string> Plots, IReadOnlyList<string> Skipped);

/// <summary>
/// Renders <c>report.md</c> and <c>plots/*.png</c> of a result folder from its <c>summary.json</c> and
/// <c>fisher.safetensors</c>: per group the estimates with error bars, the standard deviations of Î1 and Î2 against
/// their bounds, the tightness of the bounds, the input/label split of the variance and the share of negative Î2
/// terms (estimators.md §3–§7). Plots whose quantities the job did not compute are skipped with a note.
/// </summary>
public static class ReportWriter
{
    /// <summary>The report's file name in the result folder.</summary>
    public const string ReportFile = "report.md";

    /// <summary>The plots' folder in the result folder.</summary>
    public const string PlotsFolder = "plots";

    /// <summary>Every plot file the report may write, in report order.</summary>
    public static readonly IReadOnlyList<string> PlotFiles = ["estimates.png", "std-vs-bounds.png", "bound-tightness.png", "variance-split.png", "negative-share.png"];

    private static readonly Dictionary<string, string> Symbols = new(StringComparer.Ordinal)
    {
        ["i1"] = "Î1",
        ["i2"] = "Î2",
        ["exact"] = "exact",
        ["empirical"] = "empirical",
        ["tie"] = "tie",
    };

    /// <summary>
    /// Reads <paramref name="resultFolder"/> and (re)writes its report.md and plots. Every file goes through a
    /// temporary file and a rename; report.md is written last, so it never links a plot that is not there. Plot files
    /// of an earlier report that this one does not draw are removed. Throws <see cref="FileNotFoundException"/> or
    /// <see cref="DataFormatException"/> naming the file when summary.json or fisher.safetensors is missing or broken.
    /// </summary>
    public static ReportResult Write(string resultFolder)
    {
        ArgumentNullException.ThrowIfNull(resultFolder);
        var data = ResultData.Load(resultFolder);
        var groups = GroupStatistics.Compute(data);
        var plotsFolder = Path.Combine(resultFolder, PlotsFolder);
        Directory.CreateDirectory(plotsFolder);

        var written = new List<string>();
        var skipped = new List<string>();
        var sections = new StringBuilder();

        // 1. Estimates.
        var estimates = ReportPlots.Estimates(groups, out bool estimatesLog);
        Section(sections, "Estimates per group", PlotFiles[0], estimates, plotsFolder, written, skipped,
            "Each point is the mean diagonal entry of an estimate over the group's parameters; the error bar is ±1 standard error of that mean, "
            + "√(Σ Var(Î(θ)))/size from the `_var` tensors (per-parameter errors treated as independent)"
            + (estimatesLog ? "; the y axis is logarithmic because the groups span decades. " : ". ")
            + "Î1 and Î2 estimate the same diagonal as the exact one, so their points should agree within their error bars; "
            + "the empirical Fisher uses the observed labels and may differ systematically (estimators.md §6.1).",
            "no estimate tensors (i1, i2, exact, empirical) in fisher.safetensors");

        // 2. Standard deviations against bounds.
        var std = ReportPlots.StdVersusBounds(groups, out bool stdLog, out bool anyBounds);
        Section(sections, "Standard deviations of Î1 and Î2 against their bounds", PlotFiles[1], std, plotsFolder, written, skipped,
            "Circles: the per-sample standard deviations √(mean V1) and √(mean V2), where V1(θ|x), V2(θ|x) are the closed-form "
            + "label variances of one Î1 or Î2 term at an input (estimators.md §3.1), averaged over the inputs and the group's parameters. "
            + (anyBounds
                ? "Triangles pointing down/up: √ of the group means of the upper/lower bounds (§4.1, §4.2); the line joins them (it runs to the axis when the lower bound is 0). "
                : "The bounds (`v1_upper`, `v1_lower`, `v2_upper`, `v2_lower`) are not in this result, so only the standard deviations are shown. ")
            + "The estimator with the lower point needs fewer label draws for the same accuracy. "
            + "V2 = 0 in the last layer (h is affine in its parameters, §5.3a) and for piecewise-linear activations (§5.3d)"
            + (stdLog ? "; the y axis is logarithmic, and a zero is written at the bottom instead of drawn." : "."),
            "no `v1`/`v2` tensors in fisher.safetensors (run with `--estimators all` or include v1,v2)");

        // 3. Bound tightness.
        var tightness = ReportPlots.BoundTightness(groups);
        Section(sections, "Tightness of the bounds", PlotFiles[2], tightness, plotsFolder, written, skipped,
            "For every parameter with V > 0, log10(bound/V) with the bound and V each averaged over the inputs; the boxes span the 25–75 % "
            + "percentiles over the group's parameters, the line inside is the median and the whiskers reach the 5 % and 95 % percentiles. "
            + "0 (dashed line) means the bound equals the variance; upper bounds lie above it, lower bounds below. "
            + "This is the quantity the paper plots per parameter group (estimators.md §8)." + TightnessTable(groups),
            "the bounds (`v1_upper`, `v1_lower`, `v2_upper`, `v2_lower`) are not in this result; they need a job that computes them");

        // 4. Variance split.
        var source = groups.SelectMany(g => g.Splits.Values).Select(s => s.Source).DefaultIfEmpty(SplitSource.Draws).Min();
        var split = ReportPlots.VarianceSplit(groups, data.Draws, source);
        Section(sections, "Input part and label part of the variance", PlotFiles[3], split, plotsFolder, written, skipped,
            "N·Var(Î) = Var_x I(θ|x) + E_x V(θ|x)/K (estimators.md §3.2): the first part comes from sampling the inputs and is the same for Î1 and Î2, "
            + "the second from sampling the labels. The bars show each part's share, with both parts averaged over the group's parameters. "
            + (source == SplitSource.Draws
                ? $"Both parts are estimated from the K = {data.Draws} label draws per input (`var_inputs`, `i1_var_labels`, `i2_var_labels`); the input part is an unbiased estimate that can come out negative and then counts as 0."
                : "This result has no draw-based split (it needs K ≥ 2 and the split tensors), so an approximation is shown: the label part is the closed-form mean V1 or V2, "
                  + $"and the input part is N·Var(exact) (the exact diagonal has no label noise, so its per-input variance is Var_x I(θ|x)), with K = {data.Draws}.")
            + SplitTable(groups),
            "neither the draw-based split (`var_inputs`, `i1_var_labels`, `i2_var_labels`) nor `v1`/`v2` with `exact_var` and the input count are in this result");

        // 5. Negative Î2 terms.
        var negative = ReportPlots.NegativeShare(groups);
        Section(sections, "Negative Î2 terms", PlotFiles[4], negative, plotsFolder, written, skipped,
            "Per-sample Î2 terms I(θ|x) − εᵀH can be negative (estimators.md §7.2) although the Fisher diagonal is not. "
            + "The bars show, per group, the mean and the maximum over the parameters of the share of terms below zero; "
            + "consumers of a single-sample or small-batch Î2 (natural gradient, EWC, pruning) have to clip or damp it. Î1 terms are squares and never negative.",
            "no `i2_negative_share` tensors in this result");

        foreach (var file in PlotFiles)
        {
            var path = Path.Combine(plotsFolder, file);
            if (!written.Contains(Path.GetFullPath(path)) && File.Exists(path))
                File.Delete(path);
        }

        var report = new StringBuilder();
        report.Append("# Fisher information report: job ").Append(data.JobId).Append("\n\n");
        report.Append("Diagonal Fisher information estimates with the variance of every estimate, after Soen & Sun (NeurIPS 2024). ");
        report.Append("The numbers below are means over a group's parameters; `summary.json` has the per-group table, `fisher.safetensors` every parameter.\n\n");
        SpecTable(report, data);
        GroupTable(report, data, groups);
        report.Append(sections);

        var reportPath = Path.GetFullPath(Path.Combine(resultFolder, ReportFile));
        var temporary = Path.Combine(Path.GetDirectoryName(reportPath)!, $".{ReportFile}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllText(temporary, report.ToString(), new UTF8Encoding(false));
            File.Move(temporary, reportPath, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
        return new ReportResult(reportPath, written, skipped);
    }

    private static void Section(StringBuilder markdown, string title, string file, ScottPlot.Plot? plot, string plotsFolder,
        List<string> written, List<string> skipped, string description, string reason)
    {
        markdown.Append("## ").Append(title).Append("\n\n");
        if (plot is null)
        {
            markdown.Append("Not drawn: ").Append(reason).Append(".\n\n");
            skipped.Add($"{file}: {reason}");
            return;
        }
        var path = Path.GetFullPath(Path.Combine(plotsFolder, file));
        ReportPlots.Save(plot, path);
        written.Add(path);
        markdown.Append("![").Append(title).Append("](").Append(PlotsFolder).Append('/').Append(file).Append(")\n\n");
        markdown.Append(description).Append("\n\n");
    }

    private static void SpecTable(StringBuilder markdown, ResultData data)
    {
        markdown.Append("## Job\n\n| setting | value |\n|---|---|\n");
        markdown.Append("| job id | ").Append(Cell(data.JobId)).Append(" |\n");
        if (data.Inputs is { } n)
            markdown.Append("| inputs N | ").Append(n.ToString(CultureInfo.InvariantCulture)).Append(" |\n");
        markdown.Append("| label draws per input K | ").Append(data.Draws.ToString(CultureInfo.InvariantCulture)).Append(" |\n");
        foreach (var (key, value) in data.Spec)
        {
            if (key == "drawsPerInput")
                continue;
            var shown = key.EndsWith("Path", StringComparison.Ordinal) ? Path.GetFileName(value)
                : key == "inputs" && value == "0" ? "0 (all rows from firstInput on)" : value;
            markdown.Append("| ").Append(Cell(key)).Append(" | ").Append(Cell(shown)).Append(" |\n");
        }
        markdown.Append('\n');
    }

    private static void GroupTable(StringBuilder markdown, ResultData data, IReadOnlyList<GroupStatistics> groups)
    {
        var keys = GroupStatistics.EstimateKeys.Where(k => groups.Any(g => g.Estimates.ContainsKey(k))).ToArray();
        bool hasV = groups.Any(g => g.VarianceMeans.ContainsKey("v1") || g.VarianceMeans.ContainsKey("v2"));
        double epsilon = data.TargetRelativeError ?? 0.1;
        double delta = data.Delta ?? 0.05;
        bool sampleSizes = data.Inputs is > 0 && (keys.Contains("i1") || keys.Contains("i2"));

        markdown.Append("## Per group\n\n");
        markdown.Append("Mean diagonal entry ± relative standard error ‖s.e.‖₂/‖Î‖₂ over the group's parameters. ");
        if (hasV)
            markdown.Append("Mean V1, mean V2: the closed-form per-sample label variances of Î1 and Î2 averaged over inputs and parameters. ");
        markdown.Append("Lower variance: the estimator whose label variance is lower (mean V1 vs mean V2; without them the variances of the estimates), with the ratio lower/higher. ");
        if (sampleSizes)
            markdown.Append(CultureInfo.InvariantCulture, $"Inputs needed: N·rse²/(δε²), the Chebyshev sample size for a relative error ε = {Format(epsilon)} of the group's diagonal with probability 1 − δ = {Format(1 - delta)} (estimators.md §7.1) at this job's K.");
        markdown.Append("\n\n| group | parameters |");
        foreach (var k in keys)
            markdown.Append(' ').Append(Symbols[k]).Append(" |");
        if (hasV)
            markdown.Append(" mean V1 | mean V2 |");
        markdown.Append(" lower variance |");
        if (sampleSizes)
            markdown.Append(" inputs needed (Î1 / Î2) |");
        markdown.Append("\n|---|---:|");
        markdown.Append(string.Concat(Enumerable.Repeat("---:|", keys.Length + (hasV ? 2 : 0))));
        markdown.Append("---|");
        if (sampleSizes)
            markdown.Append("---:|");
        markdown.Append('\n');
        foreach (var g in groups)
        {
            markdown.Append("| ").Append(Cell(g.Name)).Append(" | ").Append(g.Size.ToString("N0", CultureInfo.InvariantCulture)).Append(" |");
            foreach (var k in keys)
            {
                markdown.Append(' ');
                if (g.Estimates.TryGetValue(k, out var e))
                {
                    markdown.Append(Format(e.Mean));
                    if (double.IsFinite(e.RelativeStandardError))
                        markdown.Append(" ± ").Append(Percent(e.RelativeStandardError));
                }
                else
                {
                    markdown.Append('–');
                }
                markdown.Append(" |");
            }
            if (hasV)
            {
                foreach (var v in new[] { "v1", "v2" })
                    markdown.Append(' ').Append(g.VarianceMeans.TryGetValue(v, out var m) ? Format(m) : "–").Append(" |");
            }
            markdown.Append(' ');
            if (g.LowerVariance is { } lower)
                markdown.Append(Symbols[lower.Lower]).Append(lower.Lower == "tie" ? "" : lower.Ratio == 0 ? $" ({(lower.Lower == "i1" ? "V1" : "V2")} = 0)" : $" ({Format(lower.Ratio)}×)");
            else
                markdown.Append('–');
            markdown.Append(" |");
            if (sampleSizes)
            {
                // summary.json's own figure when it has one (so report and summary cannot disagree), else N·rse²/(δε²).
                var needed = new[] { "i1", "i2" }.Select(k => !g.Estimates.TryGetValue(k, out var e) ? "–"
                    : e.InputsNeeded is { } stated && double.IsFinite(stated) ? Math.Ceiling(stated).ToString("N0", CultureInfo.InvariantCulture)
                    : double.IsFinite(e.RelativeStandardError) ? Math.Ceiling(data.Inputs!.Value * e.RelativeStandardError * e.RelativeStandardError / (delta * epsilon * epsilon)).ToString("N0", CultureInfo.InvariantCulture)
                    : "–");
                markdown.Append(' ').Append(string.Join(" / ", needed)).Append(" |");
            }
            markdown.Append('\n');
        }
        markdown.Append('\n');
    }

    private static string TightnessTable(IReadOnlyList<GroupStatistics> groups)
    {
        var keys = GroupStatistics.BoundKeys.Where(k => groups.Any(g => g.Tightness.ContainsKey(k) || g.TightnessExcluded.ContainsKey(k))).ToArray();
        if (keys.Length == 0)
            return "";
        var names = new Dictionary<string, string> { ["v1_upper"] = "Î1 upper", ["v1_lower"] = "Î1 lower", ["v2_upper"] = "Î2 upper", ["v2_lower"] = "Î2 lower" };
        var table = new StringBuilder("\n\nMedian log10(bound/V) [5 %, 95 %] per group (parameters left out because V or the bound is 0 in parentheses):\n\n| group |");
        foreach (var k in keys)
            table.Append(' ').Append(names[k]).Append(" |");
        table.Append("\n|---|").Append(string.Concat(Enumerable.Repeat("---:|", keys.Length))).Append('\n');
        foreach (var g in groups)
        {
            table.Append("| ").Append(Cell(g.Name)).Append(" |");
            foreach (var k in keys)
            {
                table.Append(' ');
                if (g.Tightness.TryGetValue(k, out var t))
                    table.Append(CultureInfo.InvariantCulture, $"{t.Median:0.00} [{t.P5:0.00}, {t.P95:0.00}]");
                else
                    table.Append("–");
                if (g.TightnessExcluded.TryGetValue(k, out var excluded) && excluded > 0)
                    table.Append(CultureInfo.InvariantCulture, $" ({excluded:N0} left out)");
                table.Append(" |");
            }
            table.Append('\n');
        }
        return table.ToString().TrimEnd('\n');
    }

    private static string SplitTable(IReadOnlyList<GroupStatistics> groups)
    {
        if (!groups.Any(g => g.Splits.Count > 0))
            return "";
        var table = new StringBuilder("\n\n| group | input part Var_x I | Î1 label part E_x V1 | Î1 label share | Î2 label part E_x V2 | Î2 label share |\n|---|---:|---:|---:|---:|---:|\n");
        foreach (var g in groups)
        {
            g.Splits.TryGetValue("i1", out var s1);
            g.Splits.TryGetValue("i2", out var s2);
            var input = (s1 ?? s2)?.InputPart;
            table.Append("| ").Append(Cell(g.Name)).Append(" | ").Append(input is { } i ? Format(i) : "–").Append(" | ");
            table.Append(s1 is null ? "– | –" : $"{Format(s1.LabelPart)} | {Percent(s1.LabelShare)}").Append(" | ");
            table.Append(s2 is null ? "– | –" : $"{Format(s2.LabelPart)} | {Percent(s2.LabelShare)}").Append(" |\n");
        }
        return table.ToString().TrimEnd('\n');
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static string Percent(double share) =>
        double.IsFinite(share) ? (100 * share).ToString(Math.Abs(share) < 0.1 ? "0.0" : "0", CultureInfo.InvariantCulture) + "%" : "–";

    /// <summary>A number in invariant culture: 4 significant digits in [0.01, 10⁴), otherwise scientific ("3.06e-4").</summary>
    public static string Format(double value) =>
        double.IsNaN(value) ? "–"
        : double.IsInfinity(value) ? (value > 0 ? "∞" : "−∞")
        : value.ToString(Math.Abs(value) is >= 1e-2 and < 1e4 or 0 ? "0.####" : "0.00e+0", CultureInfo.InvariantCulture);
}
