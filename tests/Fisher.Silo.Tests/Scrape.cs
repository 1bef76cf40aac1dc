using System.Text.RegularExpressions;

namespace Fisher.Silo.Tests;

/// <summary>One sample line of a Prometheus text exposition: metric name and labels.</summary>
public sealed record ScrapeSample(string Name, IReadOnlyDictionary<string, string> Labels, string Line);

/// <summary>A parsed /metrics response (text format 0.0.4, as the OpenTelemetry Prometheus exporter writes it).</summary>
public sealed partial class Scrape(string text)
{
    public string Text { get; } = text;

    public IReadOnlyList<ScrapeSample> Samples { get; } = Parse(text);

    /// <summary>Names as they appear on sample lines (histograms as name_bucket, name_sum, name_count).</summary>
    public IReadOnlySet<string> Names => Samples.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);

    private static List<ScrapeSample> Parse(string text)
    {
        var samples = new List<ScrapeSample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#')
                continue;
            var m = SampleLine().Match(line);
            Assert.True(m.Success, $"unparsable scrape line: {line}");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match l in Label().Matches(m.Groups["labels"].Value))
                labels[l.Groups[1].Value] = Regex.Unescape(l.Groups[2].Value);
            samples.Add(new ScrapeSample(m.Groups["name"].Value, labels, line));
        }
        return samples;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>.*)\})?\s+\S+(\s+\S+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}

/// <summary>Metric names used by a PromQL expression (functions, keywords, label names and Grafana variables removed).</summary>
public static partial class PromQL
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan",
    };

    public static IReadOnlySet<string> MetricNames(string expr)
    {
        ArgumentNullException.ThrowIfNull(expr);
        var s = Strings().Replace(expr, " ");
        s = Braces().Replace(s, " ");                 // label matchers
        s = Ranges().Replace(s, " ");                 // [5m], [$__rate_interval]
        s = Grouping().Replace(s, " ");               // by (le, group), on(...), ...
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in Identifier().Matches(s))
        {
            var word = m.Groups["word"].Value;
            if (m.Groups["call"].Success || Keywords.Contains(word.ToLowerInvariant()) || word.StartsWith('$'))
                continue;
            names.Add(word);
        }
        return names;
    }

    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Braces();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<![\w.$])(?<word>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<call>\s*\()?")]
    private static partial Regex Identifier();
}
