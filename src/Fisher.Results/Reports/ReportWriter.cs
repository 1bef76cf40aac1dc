using System.Globalization;
using System.Text;
using Fisher.Data;

namespace Fisher.Results.Reports;

/// <summary>
/// Renders <c>report.md</c> and <c>plots/*.png</c> of a result folder from its <c>summary.json</c> and
/// <c>fisher.safetensors</c>: per group the estimates with error bars, the standard deviations of Î1 and Î2 against
/// their bounds, the tightness of the bounds, the input/label split of the variance and the share of negative Î2
/// terms (docs/estimators.md §3–§7). Plots whose quantities the job did not compute are skipped with a note.
/// </summary>
public static class ReportWriter
{
    /// <summary>The report's file name in the result folder.</summary>
    public const string ReportFile = "report.md";

    /// <summary>The plots' folder in the result folder.</summary>
    public const string PlotsFolder = "plots";

    /// <summary>Every plot file the report may write, in report order.</summary>
    public static readonly IReadOnlyList<string> PlotFiles = ["estimates.png", "std-vs-bounds.png", "bound-tightness.png", "variance-split.png", "negative-share.png"];

    /// <summary>
    /// Reads <paramref name="resultFolder"/> (<see cref="ResultFolder.Read"/>) and (re)writes its report.md and plots.
    /// Throws <see cref="FileNotFoundException"/> or <see cref="Fisher.Data.DataFormatException"/> naming the file when
    /// summary.json or fisher.safetensors is missing or broken.
    /// </summary>
    public static ReportResult Write(string resultFolder) => Write(resultFolder, ResultFolder.Read(resultFolder));

    /// <summary>
    /// Writes report.md and the plots of <paramref name="data"/> into <paramref name="resultFolder"/>. Every file goes
    /// through a temporary file and a rename; report.md is written last, so it never links a plot that is not there.
    /// Plot files of an earlier report that this one does not draw are removed.
    /// </summary>
    public static ReportResult Write(string resultFolder, JobResult data)
    {
        ArgumentNullException.ThrowIfNull(resultFolder);
        ArgumentNullException.ThrowIfNull(data);
        var groups = GroupStatistics.Compute(data);
        var plotsFolder = Path.Combine(resultFolder, PlotsFolder);
        Directory.CreateDirectory(plotsFolder);
        var sections = new SectionWriter(plotsFolder);
        EstimateSections(sections, groups);
        SplitSections(sections, groups, data);

        foreach (var file in PlotFiles)
        {
            var path = Path.Combine(plotsFolder, file);
            if (!sections.Written.Contains(Path.GetFullPath(path)) && File.Exists(path))
                File.Delete(path);
        }

        var report = new StringBuilder();
        report.Append("# Fisher information report: job ").Append(data.JobId).Append("\n\n");
        report.Append("Diagonal Fisher information estimates with the variance of every estimate, after Soen & Sun (NeurIPS 2024). ");
        report.Append("The numbers below are means over a group's parameters; `summary.json` has the per-group table, `fisher.safetensors` every parameter.\n\n");
        SpecTable(report, data);
        GroupTable(report, data, groups);
        report.Append(sections.Markdown);
        var reportPath = Path.GetFullPath(Path.Combine(resultFolder, ReportFile));
        WriteAtomically(reportPath, report.ToString());
        return new ReportResult(reportPath, sections.Written, sections.Skipped);
    }

    /// <summary>Sections 1–3: the estimates, the standard deviations against their bounds, the bounds' tightness.</summary>
    private static void EstimateSections(SectionWriter sections, IReadOnlyList<GroupStatistics> groups)
    {
        var estimates = ReportPlots.Estimates(groups, out bool estimatesLog);
        sections.Add("Estimates per group", PlotFiles[0], estimates,
            "Each point is the mean diagonal entry of an estimate over the group's parameters; the error bar is ±1 standard error of that mean, "
            + "√(Σ Var(Î(θ)))/size from the `_var` tensors (per-parameter errors treated as independent)"
            + (estimatesLog ? "; the y axis is logarithmic because the groups span decades. " : ". ")
            + "Î1 and Î2 estimate the same diagonal as the exact one, so their points should agree within their error bars; "
            + "the empirical Fisher uses the observed labels and may differ systematically (docs/estimators.md §6.1).",
            $"no estimate tensors ({Keys(QuantityCatalog.Estimates, q => q.TensorKey)}) in fisher.safetensors");

        // 2. Standard deviations against bounds.
        var std = ReportPlots.StdVersusBounds(groups, out bool stdLog, out bool anyBounds);
        sections.Add("Standard deviations of Î1 and Î2 against their bounds", PlotFiles[1], std,
            "Circles: the per-sample standard deviations √(mean V1) and √(mean V2), where V1(θ|x), V2(θ|x) are the closed-form "
            + "label variances of one Î1 or Î2 term at an input (docs/estimators.md §3.1), averaged over the inputs and the group's parameters. "
            + (anyBounds
                ? "Triangles pointing down/up: √ of the group means of the upper/lower bounds (§4.1, §4.2); the line joins them (it runs to the axis when the lower bound is 0). "
                : $"The bounds ({Keys(Bounds, q => q.TensorKey)}) are not in this result, so only the standard deviations are shown. ")
            + "The estimator with the lower point needs fewer label draws for the same accuracy. "
            + "V2 = 0 in the last layer (h is affine in its parameters, §5.3a) and for piecewise-linear activations (§5.3d)"
            + (stdLog ? "; the y axis is logarithmic, and a zero is written at the bottom instead of drawn." : "."),
            $"no {Keys(Variances, q => q.TensorKey)} tensors in fisher.safetensors (run with `--estimators all`)");

        // 3. Bound tightness.
        var tightness = ReportPlots.BoundTightness(groups);
        sections.Add("Tightness of the bounds", PlotFiles[2], tightness,
            "For every parameter with V > 0, log10(bound/V) with the bound and V each averaged over the inputs; the boxes span the 25–75 % "
            + "percentiles over the group's parameters, the line inside is the median and the whiskers reach the 5 % and 95 % percentiles. "
            + "0 (dashed line) means the bound equals the variance; upper bounds lie above it, lower bounds below. "
            + "This is the quantity the paper plots per parameter group (docs/estimators.md §8)." + TightnessTable(groups),
            $"the bounds ({Keys(Bounds, q => q.TensorKey)}) are not in this result; they need a job that computes them");

    }

    /// <summary>Sections 4–5: the input and label parts of the variance, the share of negative Î2 terms.</summary>
    private static void SplitSections(SectionWriter sections, IReadOnlyList<GroupStatistics> groups, JobResult data)
    {
        var source = groups.SelectMany(g => g.Splits.Values).Select(s => s.Source).DefaultIfEmpty(SplitSource.Draws).Min();
        var split = ReportPlots.VarianceSplit(groups, data.Draws, source);
        sections.Add("Input part and label part of the variance", PlotFiles[3], split,
            "N·Var(Î) = Var_x I(θ|x) + E_x V(θ|x)/K (docs/estimators.md §3.2): the first part comes from sampling the inputs and is the same for Î1 and Î2, "
            + "the second from sampling the labels. The bars show each part's share, with both parts averaged over the group's parameters. "
            + (source == SplitSource.Draws
                ? $"Both parts are estimated from the K = {data.Draws} label draws per input ({Keys(Split, q => q.LabelPartKey, QuantityCatalog.InputVarianceKey)}); the input part is an unbiased estimate that can come out negative and then counts as 0."
                : "The label part is the closed-form mean V1 or V2 over the inputs, "
                  + $"and the input part the sample variance of the exact per-input diagonal (it has no label noise, so its variance over inputs is Var_x I(θ|x)), with K = {data.Draws}; "
                  + "these are the variances the standard errors use (docs/estimators.md §3.4).")
            + SplitTable(groups),
            $"neither the draw-based split ({Keys(Split, q => q.LabelPartKey, QuantityCatalog.InputVarianceKey)}) nor {Keys(Variances, q => q.TensorKey)} with `{QuantityCatalog.Exact.VarianceKey}` and the input count are in this result");

        // 5. Negative Î2 terms.
        var negative = ReportPlots.NegativeShare(groups);
        sections.Add("Negative Î2 terms", PlotFiles[4], negative,
            "Per-sample Î2 terms I(θ|x) − εᵀH can be negative (docs/estimators.md §7.2) although the Fisher diagonal is not. "
            + "The bars show, per group, the mean and the maximum over the parameters of the share of terms below zero; "
            + "consumers of a single-sample or small-batch Î2 (natural gradient, EWC, pruning) have to clip or damp it. Î1 terms are squares and never negative.",
            $"no {Keys(QuantityCatalog.With(QuantityRole.Share), q => q.TensorKey)} tensors in this result");
    }

    private static void WriteAtomically(string path, string text) => AtomicFile.WriteAllBytes(path, new UTF8Encoding(false).GetBytes(text));

    /// <summary>The report's plot sections: each draws its plot and describes it, or says why it is not drawn.</summary>
    private sealed class SectionWriter(string plotsFolder)
    {
        public StringBuilder Markdown { get; } = new();

        /// <summary>The PNG files written (full paths), in report order.</summary>
        public List<string> Written { get; } = [];

        /// <summary>One line per plot not drawn, saying why.</summary>
        public List<string> Skipped { get; } = [];

        public void Add(string title, string file, ScottPlot.Plot? plot, string description, string reason)
        {
            Markdown.Append("## ").Append(title).Append("\n\n");
            if (plot is null)
            {
                Markdown.Append("Not drawn: ").Append(reason).Append(".\n\n");
                Skipped.Add($"{file}: {reason}");
                return;
            }
            var path = Path.GetFullPath(Path.Combine(plotsFolder, file));
            ReportPlots.Save(plot, path);
            Written.Add(path);
            Markdown.Append("![").Append(title).Append("](").Append(PlotsFolder).Append('/').Append(file).Append(")\n\n");
            Markdown.Append(description).Append("\n\n");
        }
    }

    private static void SpecTable(StringBuilder markdown, JobResult data)
    {
        markdown.Append("## Job\n\n| setting | value |\n|---|---|\n");
        markdown.Append("| job id | ").Append(Cell(data.JobId)).Append(" |\n");
        if (data.Summary.Inputs is { } n)
            markdown.Append("| inputs N | ").Append(n.ToString(CultureInfo.InvariantCulture)).Append(" |\n");
        markdown.Append("| label draws per input K | ").Append(data.Draws.ToString(CultureInfo.InvariantCulture)).Append(" |\n");
        foreach (var (key, value) in SpecSettings(data.Summary.Spec))
        {
            var shown = key.EndsWith("Path", StringComparison.Ordinal) ? Path.GetFileName(value)
                : key == "inputs" && value == "0" ? "0 (all rows from firstInput on)" : value;
            markdown.Append("| ").Append(Cell(key)).Append(" | ").Append(Cell(shown)).Append(" |\n");
        }
        markdown.Append('\n');
    }

    /// <summary>The spec's settings as summary.json names them, formatted, nulls and the draws (shown above) left out.</summary>
    private static IEnumerable<(string Key, string Value)> SpecSettings(Fisher.Contracts.JobSpec? spec)
    {
        if (spec is null)
            yield break;
        using var document = System.Text.Json.JsonDocument.Parse(ResultJson.SpecLine(spec));
        foreach (var p in document.RootElement.EnumerateObject())
        {
            var text = p.Value.ValueKind switch
            {
                System.Text.Json.JsonValueKind.String => p.Value.GetString(),
                System.Text.Json.JsonValueKind.Number => p.Value.GetRawText(),
                System.Text.Json.JsonValueKind.True => "true",
                System.Text.Json.JsonValueKind.False => "false",
                _ => null,
            };
            if (text is not null && p.Name != "drawsPerInput")
                yield return (p.Name, text);
        }
    }

    private static void GroupTable(StringBuilder markdown, JobResult data, IReadOnlyList<GroupStatistics> groups)
    {
        var estimates = QuantityCatalog.Estimates.Where(q => groups.Any(g => g.Estimates.ContainsKey(q))).ToArray();
        var variances = QuantityCatalog.With(QuantityRole.ConditionalVariance).Where(q => groups.Any(g => g.VarianceMeans.ContainsKey(q))).ToArray();
        var needed = estimates.Where(q => QuantityCatalog.VarianceOf(q) is not null).ToArray();
        bool sampleSizes = data.Summary.Inputs is > 0 && needed.Length > 0;

        markdown.Append("## Per group\n\n");
        markdown.Append("Mean diagonal entry ± relative standard error ‖s.e.‖₂/‖Î‖₂ over the group's parameters. ");
        if (ResultTable.UncertaintyOf(data.Summary) is { Length: > 0 } uncertainty)
            markdown.Append(uncertainty).Append(' ').Append(IntervalCalibration.Summary).Append(' ');
        if (variances.Length > 0)
            markdown.Append("Mean V1, mean V2: the closed-form per-sample label variances of Î1 and Î2 averaged over inputs and parameters. ");
        markdown.Append("Lower variance: the estimator whose label variance is lower, with the ratio lower/higher (summary.json's decision; its basis says which quantities were compared, docs/estimators.md §3.2). ");
        if (sampleSizes)
            markdown.Append(CultureInfo.InvariantCulture, $"Inputs needed: the Chebyshev sample size for a relative error ε = {Format(data.Epsilon)} of the group's diagonal with probability 1 − δ = {Format(1 - data.Delta)} (docs/estimators.md §7.1) at this job's K.");
        markdown.Append("\n\n| group | parameters |");
        foreach (var q in estimates)
            markdown.Append(' ').Append(q.Symbol).Append(" |");
        foreach (var v in variances)
            markdown.Append(" mean ").Append(v.Symbol).Append(" |");
        markdown.Append(" lower variance |");
        if (sampleSizes)
            markdown.Append(" inputs needed (").Append(string.Join(" / ", needed.Select(q => q.Symbol))).Append(") |");
        markdown.Append("\n|---|---:|");
        markdown.Append(string.Concat(Enumerable.Repeat("---:|", estimates.Length + variances.Length)));
        markdown.Append("---|");
        if (sampleSizes)
            markdown.Append("---:|");
        markdown.Append('\n');
        foreach (var g in groups)
        {
            markdown.Append("| ").Append(Cell(g.Name)).Append(" | ").Append(g.Size.ToString("N0", CultureInfo.InvariantCulture)).Append(" |");
            foreach (var q in estimates)
            {
                markdown.Append(' ');
                if (g.Estimates.TryGetValue(q, out var e))
                {
                    markdown.Append(Format(e.Mean));
                    if (double.IsFinite(e.RelativeStandardError))
                        markdown.Append(" ± ").Append(Percent(e.RelativeStandardError));
                }
                else
                {
                    markdown.Append(NumberFormat.Missing);
                }
                markdown.Append(" |");
            }
            foreach (var v in variances)
                markdown.Append(' ').Append(g.VarianceMeans.TryGetValue(v, out var m) ? Format(m) : NumberFormat.Missing).Append(" |");
            markdown.Append(' ').Append(DecisionRule.Describe(g.Decision)).Append(" |");
            if (sampleSizes)
            {
                var counts = needed.Select(q => g.Estimates.TryGetValue(q, out var e) && e.InputsNeeded is { } n ? NumberFormat.Count(n) : NumberFormat.Missing);
                markdown.Append(' ').Append(string.Join(" / ", counts)).Append(" |");
            }
            markdown.Append('\n');
        }
        markdown.Append('\n');
    }

    private static string TightnessTable(IReadOnlyList<GroupStatistics> groups)
    {
        var bounds = QuantityCatalog.With(QuantityRole.Bound).Where(b => groups.Any(g => g.Tightness.ContainsKey(b) || g.TightnessExcluded.ContainsKey(b))).ToArray();
        if (bounds.Length == 0)
            return "";
        var table = new StringBuilder("\n\nMedian log10(bound/V) [5 %, 95 %] per group (parameters left out because V or the bound is 0 in parentheses):\n\n| group |");
        foreach (var b in bounds)
            table.Append(' ').Append(b.Symbol).Append(" |");
        table.Append("\n|---|").Append(string.Concat(Enumerable.Repeat("---:|", bounds.Length))).Append('\n');
        foreach (var g in groups)
        {
            table.Append("| ").Append(Cell(g.Name)).Append(" |");
            foreach (var b in bounds)
            {
                table.Append(' ');
                if (g.Tightness.TryGetValue(b, out var t))
                    table.Append(CultureInfo.InvariantCulture, $"{t.Median:0.00} [{t.P5:0.00}, {t.P95:0.00}]");
                else
                    table.Append(NumberFormat.Missing);
                if (g.TightnessExcluded.TryGetValue(b, out var excluded) && excluded > 0)
                    table.Append(CultureInfo.InvariantCulture, $" ({excluded:N0} left out)");
                table.Append(" |");
            }
            table.Append('\n');
        }
        return table.ToString().TrimEnd('\n');
    }

    private static string SplitTable(IReadOnlyList<GroupStatistics> groups)
    {
        var estimates = QuantityCatalog.Estimates.Where(q => groups.Any(g => g.Splits.ContainsKey(q))).ToArray();
        if (estimates.Length == 0)
            return "";
        var table = new StringBuilder("\n\n| group | input part Var_x I |");
        foreach (var q in estimates)
            table.Append(CultureInfo.InvariantCulture, $" {q.Symbol} label part E_x {QuantityCatalog.VarianceOf(q)!.Symbol} | {q.Symbol} label share |");
        table.Append("\n|---|---:|").Append(string.Concat(Enumerable.Repeat("---:|---:|", estimates.Length))).Append('\n');
        foreach (var g in groups)
        {
            var input = estimates.Select(q => g.Splits.GetValueOrDefault(q)).FirstOrDefault(s => s is not null)?.InputPart;
            table.Append("| ").Append(Cell(g.Name)).Append(" | ").Append(input is { } i ? Format(i) : NumberFormat.Missing).Append(" |");
            foreach (var q in estimates)
            {
                var split = g.Splits.GetValueOrDefault(q);
                table.Append(split is null ? $" {NumberFormat.Missing} | {NumberFormat.Missing} |" : $" {Format(split.LabelPart)} | {Percent(split.LabelShare)} |");
            }
            table.Append('\n');
        }
        return table.ToString().TrimEnd('\n');
    }

    private static readonly IReadOnlyList<QuantityInfo> Bounds = QuantityCatalog.With(QuantityRole.Bound);

    private static readonly IReadOnlyList<QuantityInfo> Variances = QuantityCatalog.With(QuantityRole.ConditionalVariance);

    /// <summary>The estimates whose variance the report splits into input and label parts.</summary>
    private static readonly IReadOnlyList<QuantityInfo> Split = QuantityCatalog.Estimates.Where(q => QuantityCatalog.VarianceOf(q) is not null).ToArray();

    /// <summary>Tensor suffixes as code, for the report's notes: "`v1_upper`, `v1_lower`".</summary>
    private static string Keys(IEnumerable<QuantityInfo> quantities, Func<QuantityInfo, string> key, params string[] first) =>
        string.Join(", ", first.Concat(quantities.Select(key)).Select(k => $"`{k}`"));

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static string Percent(double share) => NumberFormat.Percent(share);

    private static string Format(double value) => NumberFormat.Format(value);
}
