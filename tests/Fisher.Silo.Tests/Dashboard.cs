using System.Text.Json;
using ScottPlot;

namespace Fisher.Silo.Tests;

/// <summary>Draws the dashboard's main panels from Prometheus range queries (what Grafana would show), as one PNG.</summary>
public static class Dashboard
{
    /// <summary>The panels drawn, in order (3 columns).</summary>
    public static readonly string[] MainPanels =
    [
        "Throughput per silo", "Job progress", "ETA",
        "Relative standard error per group", "Batch compute time", "Merge latency",
        "Tasks and retries", "Partial bytes moved", "Orleans activations",
        "Orleans messaging", "Process memory", "GC collections",
    ];

    private const int PanelWidth = 620, PanelHeight = 360, Columns = 3;

    /// <summary>Grafana's variables replaced for a 1 s scrape interval.</summary>
    public static string Resolve(string expr) => expr.Replace("$__rate_interval", "4s", StringComparison.Ordinal);

    /// <summary>Renders <see cref="MainPanels"/> over [start, end]; returns the points drawn per panel.</summary>
    public static async Task<Dictionary<string, int>> Render(PrometheusServer prometheus, string dashboardPath, DateTimeOffset start, DateTimeOffset end, string path)
    {
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(dashboardPath));
        var panels = doc.RootElement.GetProperty("panels").EnumerateArray()
            .Where(p => p.GetProperty("type").GetString() != "row")
            .ToDictionary(p => p.GetProperty("title").GetString()!, p => p.Clone());
        var drawn = new Dictionary<string, int>();
        int rows = (MainPanels.Length + Columns - 1) / Columns;
        var multiplot = new Multiplot();
        multiplot.AddPlots(MainPanels.Length);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, Columns);
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < MainPanels.Length; i++)
        {
            var title = MainPanels[i];
            var panel = panels[title];
            var plot = multiplot.GetPlot(i);
            var unit = panel.GetProperty("fieldConfig").GetProperty("defaults").GetProperty("unit").GetString() ?? "";
            var (scale, axis) = Unit(unit);
            int points = 0, color = 0;
            foreach (var target in panel.GetProperty("targets").EnumerateArray())
            {
                var expr = Resolve(target.GetProperty("expr").GetString()!);
                var legend = target.TryGetProperty("legendFormat", out var l) ? l.GetString() ?? "" : "";
                foreach (var (labels, values) in await prometheus.QueryRange(expr, start, end, TimeSpan.FromSeconds(1)))
                {
                    if (values.Length == 0)
                        continue;
                    var xs = values.Select(v => v.Time - start.ToUnixTimeMilliseconds() / 1000.0).ToArray();
                    var ys = values.Select(v => v.Value * scale).ToArray();
                    var scatter = plot.Add.Scatter(xs, ys, palette.GetColor(color++));
                    scatter.LegendText = Legend(legend, labels);
                    scatter.MarkerSize = 0;
                    scatter.LineWidth = 2;
                    points += values.Length;
                }
            }
            drawn[title] = points;
            plot.Title(title, size: 15);
            plot.XLabel("seconds since the job started", size: 11);
            plot.YLabel(axis, size: 11);
            if (points > 0)
                plot.ShowLegend(Alignment.UpperLeft);
        }
        multiplot.SavePng(path, Columns * PanelWidth, rows * PanelHeight);
        return drawn;
    }

    private static (double Scale, string Axis) Unit(string unit) => unit switch
    {
        "percent" => (1, "%"),
        "percentunit" => (100, "%"),
        "s" => (1, "seconds"),
        "ms" => (1, "milliseconds"),
        "bytes" => (1.0 / (1 << 20), "MiB"),
        "Bps" => (1.0 / (1 << 20), "MiB/s"),
        "ops" => (1, "per second"),
        _ => (1, ""),
    };

    /// <summary>Grafana's legend format: {{label}} replaced by the series' label values.</summary>
    private static string Legend(string format, Dictionary<string, string> labels)
    {
        var text = System.Text.RegularExpressions.Regex.Replace(format, @"\{\{\s*(\w+)\s*\}\}", m => labels.GetValueOrDefault(m.Groups[1].Value, ""));
        return text.Replace("127.0.0.1:", ":", StringComparison.Ordinal);
    }
}
