using System.Globalization;
using Fisher.Estimators;
using Fisher.Results;
using ScottPlot;

namespace Fisher.Client;

/// <summary>
/// The sweep's PNGs: one panel per parameter group, the epoch on x and a log10 y axis. Values that are not
/// positive (E V2 = 0 in the last layer, a negative Î2 mean) cannot be drawn on a log axis and are left out; the
/// panel's legend says so.
/// </summary>
internal static class SweepPlots
{
    private const int PanelWidth = 520;
    private const int PanelHeight = 380;

    /// <summary>Series colours by <see cref="QuantityInfo.Colour"/>.</summary>
    private static readonly Color[] Palette = [Colors.C0, Colors.C1, Colors.Black, Colors.C2];

    private static (string Key, string Label, Color Color)[] Series(IEnumerable<QuantityInfo> quantities, Func<QuantityInfo, string> label) =>
        quantities.Select(q => (q.Key, label(q), Palette[q.Colour % Palette.Length])).ToArray();

    private static readonly (string Key, string Label, Color Color)[] EstimateSeries = Series(QuantityCatalog.Estimates, q => q.Symbol);

    private static readonly (string Key, string Label, Color Color)[] VarianceSeries = Series(QuantityCatalog.With(QuantityRole.ConditionalVariance), q => q.Label);

    public static void Write(string folder, IReadOnlyList<SweepEpoch> epochs, SweepOptions options)
    {
        Directory.CreateDirectory(folder);
        string setting = string.Create(CultureInfo.InvariantCulture,
            $"{(options.Spec.Likelihood is { } family ? SpecNames.Likelihoods.Key(family) : Fisher.Data.ModelArchitecture.Read(options.Spec.ArchitecturePath).Likelihood)}{(options.Spec.Inputs > 0 ? $", {options.Spec.Inputs:N0} inputs" : "")}, K = {options.Spec.DrawsPerInput}");
        Render(Path.Combine(folder, "sweep-estimates.png"), epochs, EstimateSeries, g => g.Means,
            string.Join(", ", EstimateSeries.Select(q => q.Label)), "mean diagonal entry", setting);
        Render(Path.Combine(folder, "sweep-variances.png"), epochs, VarianceSeries, g => g.Means,
            "E_x V, lower wins", "mean E_x V", setting);
        Render(Path.Combine(folder, "sweep-rse.png"), epochs, EstimateSeries, g => g.RelativeStandardErrors,
            "relative standard error", "||s.e.||₂ / ||estimate||₂", setting);
    }

    private static void Render(string path, IReadOnlyList<SweepEpoch> epochs, (string Key, string Label, Color Color)[] series,
        Func<SweepGroup, IReadOnlyDictionary<string, double?>> values, string title, string yLabel, string setting)
    {
        var groups = epochs.SelectMany(e => e.Groups.Select(g => g.Name)).Distinct().ToArray();
        int columns = groups.Length <= 1 ? 1 : 2;
        int rows = (groups.Length + columns - 1) / columns;
        var multiplot = new Multiplot();
        multiplot.AddPlots(groups.Length);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        for (int p = 0; p < groups.Length; p++)
        {
            var plot = multiplot.GetPlot(p);
            var group = groups[p];
            var missing = new List<string>();
            bool any = false;
            double low = double.PositiveInfinity, high = double.NegativeInfinity;
            foreach (var (key, label, color) in series)
            {
                var xs = new List<double>();
                var ys = new List<double>();
                bool present = false, zero = true;
                foreach (var e in epochs)
                {
                    var g = e.Groups.FirstOrDefault(x => x.Name == group);
                    if (g is null || !values(g).TryGetValue(key, out var value) || value is not { } v)
                        continue;
                    present = true;
                    zero &= v == 0;
                    if (v > 0 && double.IsFinite(v))
                    {
                        xs.Add(e.Epoch);
                        ys.Add(Math.Log10(v));
                    }
                }
                if (!present)
                    continue;
                if (xs.Count == 0)
                {
                    missing.Add(zero ? $"{label} = 0" : $"{label} ≤ 0");
                    continue;
                }
                low = Math.Min(low, ys.Min());
                high = Math.Max(high, ys.Max());
                var scatter = plot.Add.Scatter(xs.ToArray(), ys.ToArray(), color);
                scatter.LegendText = label;
                scatter.MarkerSize = 5;
                scatter.LineWidth = 2;
                any = true;
            }
            string subtitle = $"{group}: {title}";
            if (missing.Count > 0)
                subtitle = $"{group}: {string.Join(", ", missing)}, not drawn";
            plot.Title(subtitle, size: 14);
            plot.XLabel($"epoch ({setting})", size: 12);
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            plot.YLabel(yLabel, size: 12);
            LogY(plot);
            if (any)
            {
                // Whole decades, with room above the curves for the legend: a log axis always shows labelled ticks.
                plot.Axes.SetLimitsY(Math.Floor(low - 0.05), Math.Ceiling(high + 0.6));
                plot.ShowLegend(Alignment.UpperLeft);
            }
        }
        multiplot.SavePng(path, columns * PanelWidth, rows * PanelHeight + 10);
    }

    private static void LogY(Plot plot)
    {
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = y => "1e" + Math.Round(y).ToString(CultureInfo.InvariantCulture),
        };
        plot.Grid.MajorLineColor = Colors.Black.WithOpacity(0.15);
        plot.Grid.MinorLineColor = Colors.Black.WithOpacity(0.05);
    }
}
