using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Fisher.EndToEnd.Tests;

namespace Fisher.Silo.Tests;

/// <summary>Metrics and traces of a real Fisher.Silo, scraped by a real Prometheus, after one job (issue 5, acceptance 1-4).</summary>
public sealed partial class MonitoringTests(MonitoredSilo silo) : IClassFixture<MonitoredSilo>
{
    /// <summary>Labels a fisher_* series may carry (bounded): ours, the histogram bucket and OpenTelemetry's scope.</summary>
    private static readonly HashSet<string> AllowedFisherLabels = ["group", "estimator", "outcome", "le", "otel_scope_name", "otel_scope_version"];

    public static string DashboardPath => Path.Combine(TestProcess.RepoRoot, "deploy", "grafana", "fisher-dashboard.json");

    [Fact]
    public async Task Prometheus_counts_every_processed_sample_and_stores_the_Orleans_meters()
    {
        // fisher_worker_samples_total: input rows merged per group, once per task attempt; without re-dispatch the
        // job adds inputs x groups.
        long expected = silo.Inputs * silo.Groups.Count;
        Assert.True(expected > 0);
        double? seen = null;
        try
        {
            await MonitoredSilo.Until(async () => (seen = await silo.Prometheus.Scalar("sum(fisher_worker_samples_total)")) == expected,
                TestTimeouts.Settle, $"sum(fisher_worker_samples_total) == {expected}");
        }
        catch (TimeoutException e)
        {
            Assert.Fail($"{e.Message}; last value {seen}\n{silo.Logs()}");
        }
        Assert.Equal(0, await silo.Prometheus.Scalar("sum(fisher_job_tasks_redispatched_total)"));
        Assert.Equal(0, await silo.Prometheus.Scalar("sum(fisher_job_tasks_handed_back_total)")); // exported at zero: the dashboard queries it
        Assert.Equal(0, await silo.Prometheus.Scalar("sum(fisher_job_tasks_starts_lost_total)")); // likewise
        var perGroup = await silo.Prometheus.Query("sum by (group) (fisher_worker_samples_total)");
        var groups = perGroup.EnumerateArray().ToDictionary(
            r => r.GetProperty("metric").GetProperty("group").GetString()!,
            r => double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture));
        Assert.Equal(silo.Groups.Order(StringComparer.Ordinal), groups.Keys.Order(StringComparer.Ordinal));
        Assert.All(groups.Values, v => Assert.Equal(silo.Inputs, v));
        Assert.Equal(silo.Groups.Count * silo.Shards, await silo.Prometheus.Scalar("sum(fisher_job_tasks_completed_total)"));
        Assert.Equal(silo.Groups.Count * silo.Shards, await silo.Prometheus.Scalar("sum(fisher_aggregator_partials_total{outcome=\"merged\"})"));

        var names = await silo.Prometheus.MetricNames();
        var orleans = names.Where(n => n.StartsWith("orleans_", StringComparison.Ordinal)).ToArray();
        Assert.True(orleans.Length >= 20, $"orleans_* families in Prometheus: {string.Join(", ", orleans)}");
        Assert.Contains("orleans_catalog_activations", orleans);
        Assert.Contains("orleans_messaging_sent_messages_size_bytes_count", orleans);
        Assert.True(await silo.Prometheus.Scalar("sum(orleans_catalog_activations{grain_type=\"momentsaggregator\"})") >= 1);
    }

    [Fact]
    public async Task Dashboard_is_valid_and_queries_only_metrics_the_silo_exports()
    {
        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(DashboardPath));
        var root = doc.RootElement;
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("uid").GetString()));
        var exported = silo.AfterJob.Names;
        var used = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<string>();
        int panels = 0;
        foreach (var panel in root.GetProperty("panels").EnumerateArray())
        {
            if (panel.GetProperty("type").GetString() == "row")
                continue;
            panels++;
            var title = panel.GetProperty("title").GetString();
            var targets = panel.GetProperty("targets").EnumerateArray().ToArray();
            Assert.True(targets.Length > 0, $"panel '{title}' has no query");
            foreach (var target in targets)
            {
                var expr = target.GetProperty("expr").GetString()!;
                var names = PromQL.MetricNames(expr);
                Assert.True(names.Count > 0, $"panel '{title}': no metric name in {expr}");
                foreach (var name in names)
                {
                    used.Add(name);
                    if (!exported.Contains(name))
                        missing.Add($"{title}: {name}");
                }
                // Prometheus parses and evaluates every query (Grafana's rate interval replaced).
                await silo.Prometheus.Query(Dashboard.Resolve(expr));
            }
        }
        Assert.True(missing.Count == 0, $"metric names the silo does not export:\n{string.Join("\n", missing)}");
        Assert.True(panels >= 12, $"{panels} panels");
        foreach (var prefix in new[] { "fisher_worker_", "fisher_job_", "fisher_aggregator_", "orleans_", "process_", "dotnet_gc_" })
            Assert.Contains(used, n => n.StartsWith(prefix, StringComparison.Ordinal));
    }

    [Fact]
    public void No_metric_label_carries_a_job_id_or_grain_key()
    {
        Assert.Matches("^[0-9]{8}-[0-9]{6}-[a-z2-7]{26}$", silo.JobId);
        var offending = new List<string>();
        foreach (var sample in silo.AfterJob.Samples)
        {
            foreach (var (label, value) in sample.Labels)
            {
                if (value.Contains(silo.JobId, StringComparison.Ordinal) || GrainKey().IsMatch(value) || TaskId().IsMatch(value))
                    offending.Add(sample.Line);
            }
            if (sample.Name.StartsWith("fisher_", StringComparison.Ordinal))
            {
                var extra = sample.Labels.Keys.Where(k => !AllowedFisherLabels.Contains(k)).ToArray();
                if (extra.Length > 0)
                    offending.Add($"{sample.Line} (labels {string.Join(", ", extra)})");
            }
        }
        Assert.True(offending.Count == 0, string.Join("\n", offending.Distinct().Take(20)));
        // The scrape has what the check is about: fisher series with their group labels, Orleans series with grain types.
        Assert.Contains(silo.AfterJob.Samples, s => s.Name == "fisher_worker_samples_total" && s.Labels.ContainsKey("group"));
        Assert.Contains(silo.AfterJob.Samples, s => s.Name == "fisher_aggregator_relative_standard_error" && s.Labels.ContainsKey("estimator"));
        Assert.Contains(silo.AfterJob.Samples, s => s.Labels.ContainsKey("grain_type"));
    }

    [Fact]
    public async Task Traces_link_job_task_and_merge_spans_through_Orleans()
    {
        IReadOnlyList<OtlpSpan> spans = [];
        try
        {
            await MonitoredSilo.Until(() =>
            {
                spans = silo.Otlp.Spans;
                return Task.FromResult(spans.Any(s => s.Name == "fisher.job") && spans.Any(s => s.Name == "fisher.merge"));
            }, TestTimeouts.Settle, "fisher.job and fisher.merge spans over OTLP");
        }
        catch (TimeoutException e)
        {
            Assert.Fail($"{e.Message}; got {string.Join(", ", spans.Select(s => s.Name).Distinct())}\n{silo.Logs()}");
        }
        var byId = spans.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        var job = Assert.Single(spans, s => s.Name == "fisher.job");
        var merges = spans.Where(s => s.Name == "fisher.merge").ToArray();
        Assert.Equal(silo.Groups.Count * silo.Shards, merges.Length);
        foreach (var merge in merges)
        {
            Assert.Equal(job.TraceId, merge.TraceId);
            var chain = new List<string>();
            for (var s = merge; s is not null; s = byId.GetValueOrDefault(s.ParentSpanId))
                chain.Add(s.Name);
            Assert.True(chain.IndexOf("fisher.task") > 0 && chain.IndexOf("fisher.job") > chain.IndexOf("fisher.task"),
                $"merge ancestry: {string.Join(" <- ", chain)}");
        }
        Assert.Contains(spans, s => s.Name == "fisher.dispatch");
        Assert.Contains(spans, s => s.Name == "fisher.ship");
    }

    [Fact]
    public async Task Dashboard_panels_render_from_Prometheus_data()
    {
        var path = Path.Combine(silo.Scratch.FullName, "dashboard.png");
        var drawn = await Dashboard.Render(silo.Prometheus, DashboardPath, silo.JobStarted.AddSeconds(-4), silo.JobFinished.AddSeconds(4), path);
        Assert.True(new FileInfo(path).Length > 20_000, $"{path}: {new FileInfo(path).Length} bytes");
        foreach (var title in new[] { "Throughput per silo", "Job progress", "Relative standard error per group", "Merge latency", "Orleans activations", "Process memory" })
            Assert.True(drawn.TryGetValue(title, out var points) && points > 0, $"panel '{title}' drew {points} points");
        // FISHER_DASHBOARD_PNG=docs/dashboard.png (relative to the repository) keeps the picture.
        if (Environment.GetEnvironmentVariable("FISHER_DASHBOARD_PNG") is { Length: > 0 } keep)
            File.Copy(path, Path.Combine(TestProcess.RepoRoot, keep), overwrite: true);
    }

    /// <summary>A '/'-separated grain key (aggregator "job/3", worker "job/s0g1/1"); URLs have a ':' and do not match.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)+$")]
    private static partial Regex GrainKey();

    [GeneratedRegex(@"(^|[^a-z])s[0-9]+g[0-9]+($|[^0-9])")]
    private static partial Regex TaskId();
}
