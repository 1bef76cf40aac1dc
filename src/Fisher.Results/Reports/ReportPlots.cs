using System.Globalization;
using Fisher.Data;
using ScottPlot;

namespace Fisher.Results.Reports;

/// <summary>
/// The report's plots, drawn with ScottPlot 5 and saved as PNG (headless, no display needed). Each method returns
/// the finished <see cref="Plot"/>, or null when its inputs are absent; groups are categories on the x axis.
/// </summary>
internal static class ReportPlots
{
    public const int Width = 1000;
    public const int Height = 600;

    private static readonly Color Blue = new(31, 119, 180);
    private static readonly Color LightBlue = new(140, 190, 230);
    private static readonly Color Orange = new(230, 120, 20);
    private static readonly Color LightOrange = new(250, 190, 130);
    private static readonly Color Green = new(44, 160, 44);
    private static readonly Color Purple = new(148, 103, 189);
    private static readonly Color Grey = new(110, 110, 110);

    /// <summary>Series colours by <see cref="QuantityInfo.Colour"/>: the strong one, and a light one for a second series.</summary>
    private static readonly (Color Strong, Color Light)[] Palette = [(Blue, LightBlue), (Orange, LightOrange), (Green, Green), (Purple, Purple)];

    private static Color StrongColour(QuantityInfo quantity) => Palette[quantity.Colour % Palette.Length].Strong;

    private static Color LightColour(QuantityInfo quantity) => Palette[quantity.Colour % Palette.Length].Light;

    /// <summary>1. Mean diagonal entry per group of each estimate, ±1 standard error of the group mean.</summary>
    public static Plot? Estimates(IReadOnlyList<GroupStatistics> groups, out bool logScale)
    {
        var keys = QuantityCatalog.Estimates.Where(k => groups.Any(g => g.Estimates.ContainsKey(k))).ToArray();
        logScale = false;
        if (keys.Length == 0)
            return null;
        var values = groups.SelectMany(g => g.Estimates.Values.Select(e => e.Mean)).Where(double.IsFinite).ToArray();
        logScale = UseLog(values, 10);
        var plot = NewPlot("Mean diagonal entry of each estimate per parameter group",
            "parameter group", logScale ? "mean diagonal entry (log scale)" : "mean diagonal entry", groups);
        double low = double.PositiveInfinity, high = double.NegativeInfinity;
        for (int k = 0; k < keys.Length; k++)
        {
            var (name, color) = (keys[k].Label, StrongColour(keys[k]));
            var xs = new List<double>();
            var ys = new List<double>();
            var up = new List<double>();
            var down = new List<double>();
            for (int g = 0; g < groups.Count; g++)
            {
                if (!groups[g].Estimates.TryGetValue(keys[k], out var e) || !double.IsFinite(e.Mean) || (logScale && e.Mean <= 0))
                    continue;
                double se = double.IsFinite(e.StandardError) ? e.StandardError : 0;
                xs.Add(g + Offset(k, keys.Length, 0.17));
                if (logScale)
                {
                    double y = Math.Log10(e.Mean);
                    ys.Add(y);
                    up.Add(Math.Log10(e.Mean + se) - y);
                    down.Add(e.Mean - se > 0 ? y - Math.Log10(e.Mean - se) : 1);
                }
                else
                {
                    ys.Add(e.Mean);
                    up.Add(se);
                    down.Add(se);
                }
            }
            if (xs.Count == 0)
                continue;
            for (int i = 0; i < xs.Count; i++)
            {
                low = Math.Min(low, ys[i] - Math.Min(down[i], 0.5));
                high = Math.Max(high, ys[i] + up[i]);
            }
            var bars = plot.Add.ErrorBar(xs, ys, up);
            bars.YErrorPositive = up;
            bars.YErrorNegative = down;
            bars.Color = color;
            bars.LineWidth = 2;
            bars.CapSize = 14;
            var markers = plot.Add.Markers(xs.ToArray(), ys.ToArray(), MarkerShape.FilledCircle, 9, color);
            markers.LegendText = name;
        }
        if (logScale)
            LogAxis(plot, low - 0.15, high + 0.25);
        else
            plot.Axes.AutoScaleY();
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    /// <summary>2. √(mean V1), √(mean V2) per group against √ of the means of their bounds.</summary>
    public static Plot? StdVersusBounds(IReadOnlyList<GroupStatistics> groups, out bool logScale, out bool anyBounds)
    {
        var series = QuantityCatalog.With(QuantityRole.ConditionalVariance);
        anyBounds = groups.Any(g => g.VarianceMeans.Keys.Any(q => q.Role == QuantityRole.Bound));
        logScale = false;
        if (!groups.Any(g => series.Any(g.VarianceMeans.ContainsKey)))
            return null;
        var all = groups.SelectMany(g => g.VarianceMeans.Values).Where(v => v > 0 && double.IsFinite(v)).Select(Math.Sqrt).ToArray();
        bool log = UseLog(all, 10);
        logScale = log;
        var plot = NewPlot(anyBounds ? "Per-sample standard deviation of Î1 and Î2 vs their bounds" : "Per-sample standard deviation of Î1 and Î2 (no bounds in this result)",
            "parameter group", "√(mean over parameters of V(θ|x))" + (logScale ? " (log scale)" : ""), groups);
        double bottom = log && all.Length > 0 ? Math.Floor(Math.Log10(all.Min())) - 0.3 : 0;
        double Y(double value) => log ? Math.Log10(value) : value;
        for (int s = 0; s < series.Count; s++)
        {
            var variance = series[s];
            var label = QuantityCatalog.EstimateOf(variance).Symbol;
            var color = StrongColour(variance);
            var bounds = QuantityCatalog.BoundsOf(variance);
            var upperBound = bounds.FirstOrDefault(b => b.IsUpperBound);
            var lowerBound = bounds.FirstOrDefault(b => !b.IsUpperBound);
            var std = new List<Coordinates>();
            var upper = new List<Coordinates>();
            var lower = new List<Coordinates>();
            for (int g = 0; g < groups.Count; g++)
            {
                double x = g + Offset(s, series.Count, 0.2);
                var means = groups[g].VarianceMeans;
                double ub = upperBound is not null ? means.GetValueOrDefault(upperBound) : 0;
                double lb = lowerBound is not null ? means.GetValueOrDefault(lowerBound) : 0;
                if (ub > 0)
                {
                    upper.Add(new(x, Y(Math.Sqrt(ub))));
                    var range = plot.Add.Line(x, lb > 0 ? Y(Math.Sqrt(lb)) : bottom, x, Y(Math.Sqrt(ub)));
                    range.Color = color.WithAlpha(0.6);
                    range.LineWidth = 3;
                }
                if (lb > 0)
                    lower.Add(new(x, Y(Math.Sqrt(lb))));
                if (!means.TryGetValue(variance, out var v))
                    continue;
                if (v > 0 || !logScale)
                    std.Add(new(x, Y(Math.Sqrt(Math.Max(0, v)))));
                else
                    AddNote(plot, $"{label}: {variance.Symbol} = 0", x, bottom, color);
            }
            if (std.Count > 0)
                plot.Add.Markers(std, MarkerShape.FilledCircle, 13, color).LegendText = $"{label}: √(mean {variance.Symbol})";
            if (upper.Count > 0)
                plot.Add.Markers(upper, MarkerShape.FilledTriangleDown, 13, color).LegendText = $"{label}: √(mean upper bound)";
            if (lower.Count > 0)
                plot.Add.Markers(lower, MarkerShape.FilledTriangleUp, 13, color).LegendText = $"{label}: √(mean lower bound)";
        }
        if (log)
            LogAxis(plot, bottom - 0.2, Math.Log10(all.Max()) + 0.2);
        else
            plot.Axes.AutoScaleY();
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>3. Box plots of log10(bound/V) over each group's parameters (box 25–75 %, line median, whiskers 5–95 %).</summary>
    public static Plot? BoundTightness(IReadOnlyList<GroupStatistics> groups)
    {
        var keys = QuantityCatalog.With(QuantityRole.Bound).Where(k => groups.Any(g => g.Tightness.ContainsKey(k))).ToArray();
        if (keys.Length == 0)
            return null;
        var styles = keys.ToDictionary(k => k, k => (Name: $"{k.Symbol} bound / {QuantityCatalog.Of(k.BoundedStream).Symbol}", Color: k.IsUpperBound ? StrongColour(k) : LightColour(k)));
        var plot = NewPlot("Bound tightness: log10(bound / V) over each group's parameters (0 = tight)",
            "parameter group", "log10(bound / V)", groups);
        var zero = plot.Add.HorizontalLine(0, 2, Grey, LinePattern.Dashed);
        zero.LegendText = "bound = V";
        double width = 0.7 / keys.Length;
        var all = groups.SelectMany(g => g.Tightness.Values).ToArray();
        double low = Math.Min(0, all.Min(t => t.P5)), high = Math.Max(0, all.Max(t => t.P95));
        double pad = Math.Max(0.1, 0.08 * (high - low));
        for (int k = 0; k < keys.Length; k++)
        {
            var boxes = new List<Box>();
            for (int g = 0; g < groups.Count; g++)
            {
                if (!groups[g].Tightness.TryGetValue(keys[k], out var t))
                {
                    // A group whose V is 0 throughout (Î2 in the last layer): say so once, under its upper-bound slot.
                    var bounded = QuantityCatalog.Of(keys[k].BoundedStream);
                    bool first = keys[k].IsUpperBound || !keys.Any(b => b.IsUpperBound && b.BoundedStream == keys[k].BoundedStream);
                    if (first && groups[g].TightnessExcluded.TryGetValue(keys[k], out int excluded) && excluded > 0)
                        AddNote(plot, $"{QuantityCatalog.EstimateOf(bounded).Symbol}: {bounded.Symbol} = 0", g + Offset(k, keys.Length, width), low - pad * 0.8, styles[keys[k]].Color);
                    continue;
                }
                boxes.Add(new Box
                {
                    Position = g + Offset(k, keys.Length, width),
                    BoxMin = t.P25,
                    BoxMax = t.P75,
                    BoxMiddle = t.Median,
                    WhiskerMin = t.P5,
                    WhiskerMax = t.P95,
                    Width = width * 0.8,
                });
            }
            if (boxes.Count == 0)
                continue;
            var plottable = plot.Add.Boxes(boxes);
            plottable.FillColor = styles[keys[k]].Color.WithAlpha(0.85);
            plottable.LineColor = Colors.Black;
            plottable.LegendText = styles[keys[k]].Name;
        }
        plot.Axes.SetLimitsY(low - pad, high + pad);
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>4. Stacked shares of N·Var(Î) from the inputs (Var_x I) and from the labels (E_x V / K), Î1 and Î2 per group.</summary>
    public static Plot? VarianceSplit(IReadOnlyList<GroupStatistics> groups, int draws, SplitSource source)
    {
        if (!groups.Any(g => g.Splits.Count > 0))
            return null;
        string subtitle = source == SplitSource.Draws
            ? $"estimated from K = {draws} draws per input"
            : "label part closed-form, input part from the exact diagonal";
        var plot = NewPlot($"Where the variance of Î1 and Î2 comes from\n({subtitle})",
            "parameter group (left bar Î1, right bar Î2)", "share of N·Var(Î) (%)", groups);
        var inputBars = new List<Bar>();
        var labelBars = new List<Bar>();
        var estimators = QuantityCatalog.Estimates.Where(q => QuantityCatalog.VarianceOf(q) is not null).ToArray();
        for (int g = 0; g < groups.Count; g++)
        {
            for (int e = 0; e < estimators.Length; e++)
            {
                if (!groups[g].Splits.TryGetValue(estimators[e], out var split))
                    continue;
                double x = g + Offset(e, estimators.Length, 0.36);
                double labelShare = double.IsFinite(split.LabelShare) ? 100 * split.LabelShare : 0;
                inputBars.Add(new Bar { Position = x, ValueBase = 0, Value = 100 - labelShare, Size = 0.32, FillColor = Blue });
                labelBars.Add(new Bar { Position = x, ValueBase = 100 - labelShare, Value = 100, Size = 0.32, FillColor = Orange });
                var text = plot.Add.Text(estimators[e].Symbol, x, 101);
                text.LabelFontSize = 15;
                text.LabelBold = true;
                text.LabelAlignment = Alignment.LowerCenter;
            }
        }
        var input = plot.Add.Bars(inputBars);
        input.LegendText = "inputs: Var_x I(θ|x)";
        input.Color = Blue;
        var label = plot.Add.Bars(labelBars);
        label.LegendText = draws == 1 ? "labels: E_x V(θ|x)" : $"labels: E_x V(θ|x) / {draws}";
        label.Color = Orange;
        plot.Axes.SetLimitsY(0, 110);
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>5. Mean and maximum over each group's parameters of the share of negative Î2 terms.</summary>
    public static Plot? NegativeShare(IReadOnlyList<GroupStatistics> groups)
    {
        if (!groups.Any(g => g.NegativeShare is not null))
            return null;
        var plot = NewPlot("Share of per-sample Î2 terms below zero", "parameter group", "share of negative Î2 terms (%)", groups);
        var mean = new List<Bar>();
        var max = new List<Bar>();
        for (int g = 0; g < groups.Count; g++)
        {
            if (groups[g].NegativeShare is not { } share)
                continue;
            mean.Add(new Bar { Position = g + Offset(0, 2, 0.36), Value = 100 * share.Mean, Size = 0.32, FillColor = Orange, Label = Percent(share.Mean) });
            max.Add(new Bar { Position = g + Offset(1, 2, 0.36), Value = 100 * share.Max, Size = 0.32, FillColor = LightOrange, Label = Percent(share.Max) });
        }
        var meanPlot = plot.Add.Bars(mean);
        meanPlot.LegendText = "mean over the group's parameters";
        meanPlot.Color = Orange;
        meanPlot.ValueLabelStyle.FontSize = 14;
        var maxPlot = plot.Add.Bars(max);
        maxPlot.LegendText = "maximum over the group's parameters";
        maxPlot.Color = LightOrange;
        maxPlot.ValueLabelStyle.FontSize = 14;
        double top = groups.Where(g => g.NegativeShare is not null).Max(g => g.NegativeShare!.Value.Max) * 100;
        plot.Axes.SetLimitsY(0, Math.Max(1, top * 1.2));
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    /// <summary>Saves <paramref name="plot"/> to <paramref name="path"/> through a temporary file and a rename.</summary>
    public static void Save(Plot plot, string path)
    {
        try
        {
            AtomicFile.Replace(path, temporary => plot.SavePng(temporary, Width, Height), suffix: ".tmp.png");
        }
        finally
        {
            plot.Dispose();
        }
    }

    private const string SansFont = "DejaVu Sans";

    private static readonly Lazy<bool> HasSans = new(() => SkiaSharp.SKFontManager.Default.GetFontFamilies().Contains(SansFont, StringComparer.OrdinalIgnoreCase));

    private static Plot NewPlot(string title, string xLabel, string yLabel, IReadOnlyList<GroupStatistics> groups)
    {
        var plot = new Plot();
        if (HasSans.Value)
            plot.Font.Set(SansFont);
        plot.Title(title, 19);
        plot.XLabel(xLabel, 16);
        plot.YLabel(yLabel, 16);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 15;
        plot.Axes.Left.TickLabelStyle.FontSize = 14;
        plot.Legend.FontSize = 14;
        plot.Legend.SymbolHeight = 24; // taller rows: the first row's "Î" loses its hat otherwise
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (int g = 0; g < groups.Count; g++)
            ticks.AddMajor(g, $"{groups[g].Name}\n({Count(groups[g].Size)})");
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.SetLimitsX(-0.5, groups.Count - 0.5);
        plot.Grid.XAxisStyle.MajorLineStyle.Width = 0;
        return plot;
    }

    /// <summary>Y limits [low, high] in log10 units, with ticks at 1·10ᵏ (labelled), 2·10ᵏ and 5·10ᵏ labelled too when the range is short.</summary>
    private static void LogAxis(Plot plot, double low, double high)
    {
        plot.Axes.SetLimitsY(low, high);
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        bool dense = high - low < 2.5;
        for (int decade = (int)Math.Floor(low); decade <= (int)Math.Ceiling(high); decade++)
        {
            for (int m = 1; m <= 9; m++)
            {
                double position = decade + Math.Log10(m);
                if (position < low || position > high)
                    continue;
                if (m == 1)
                    ticks.AddMajor(position, PowerOfTen(decade));
                else if (dense && m is 2 or 5)
                    ticks.AddMajor(position, decade is >= -1 and <= 2 ? NumberFormat.Format(m * Math.Pow(10, decade)) : m.ToString(CultureInfo.InvariantCulture) + "·" + PowerOfTen(decade));
                else
                    ticks.AddMinor(position);
            }
        }
        plot.Axes.Left.TickGenerator = ticks;
        plot.Grid.MajorLineColor = Colors.Black.WithOpacity(0.15);
        plot.Grid.MinorLineColor = Colors.Black.WithOpacity(0.05);
        plot.Grid.MinorLineWidth = 1;
    }

    private static void AddNote(Plot plot, string text, double x, double y, Color color)
    {
        var note = plot.Add.Text(text, x, y);
        note.LabelFontSize = 13;
        note.LabelFontColor = color;
        note.LabelAlignment = Alignment.LowerCenter;
    }

    private static bool UseLog(double[] values, double span = 100)
    {
        if (values.Length == 0 || values.Any(v => v <= 0))
            return false;
        return values.Max() / values.Min() >= span;
    }

    private static double Offset(int index, int count, double step) => (index - (count - 1) / 2.0) * step;

    private static string Count(long size) => size.ToString("N0", CultureInfo.InvariantCulture) + " params";

    private static string Percent(double share) => NumberFormat.Percent(share);

    /// <summary>10 to a power as a label: "10⁻³" for whole exponents, otherwise the number.</summary>
    internal static string PowerOfTen(double exponent)
    {
        if (Math.Abs(exponent - Math.Round(exponent)) > 1e-9)
            return NumberFormat.Format(Math.Pow(10, exponent));
        int e = (int)Math.Round(exponent);
        if (e is 0 or 1)
            return Math.Pow(10, e).ToString(CultureInfo.InvariantCulture);
        const string digits = "⁰¹²³⁴⁵⁶⁷⁸⁹";
        var text = string.Concat(Math.Abs(e).ToString(CultureInfo.InvariantCulture).Select(c => digits[c - '0']));
        return "10" + (e < 0 ? "⁻" : "") + text;
    }
}
