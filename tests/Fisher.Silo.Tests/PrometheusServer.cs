using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Fisher.EndToEnd.Tests;

namespace Fisher.Silo.Tests;

/// <summary>
/// Debian's Prometheus (package prometheus) on a free loopback port, with the shipped
/// <c>deploy/prometheus/prometheus.yml</c>: the static targets rewritten to the silo under test and the scrape interval
/// to 1 s, storage in a temporary folder. Queries go through the HTTP API (<c>/api/v1/query</c>, <c>query_range</c>).
/// </summary>
public sealed partial class PrometheusServer : IAsyncDisposable
{
    private readonly TestProcess _process;
    private readonly DirectoryInfo _folder;

    private PrometheusServer(TestProcess process, DirectoryInfo folder, int port)
    {
        _process = process;
        _folder = folder;
        Port = port;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TestTimeouts.Request };
    }

    public int Port { get; }

    public HttpClient Http { get; }

    public string Describe() => _process.Describe(20);

    /// <summary>The shipped configuration with its local static targets replaced by <paramref name="targets"/> and a 1 s interval.</summary>
    public static string Configuration(IEnumerable<string> targets)
    {
        var text = File.ReadAllText(Path.Combine(TestProcess.RepoRoot, "deploy", "prometheus", "prometheus.yml"));
        var list = string.Join(", ", targets.Select(t => $"'{t}'"));
        var rewritten = TargetsLine().Replace(text, $"- targets: [{list}]", 1);
        Assert.NotEqual(text, rewritten);
        rewritten = IntervalLine().Replace(rewritten, m => $"{m.Groups[1].Value}: 1s");
        return rewritten;
    }

    public static async Task<PrometheusServer> Start(IEnumerable<string> targets)
    {
        var binary = Requirements.Program("prometheus", "prometheus");
        var folder = Directory.CreateTempSubdirectory("fisher-prometheus-");
        var config = Path.Combine(folder.FullName, "prometheus.yml");
        await File.WriteAllTextAsync(config, Configuration(targets));
        int port = TestProcess.FreePorts(1)[0];
        var process = TestProcess.Start(binary,
        [
            $"--config.file={config}",
            $"--storage.tsdb.path={Path.Combine(folder.FullName, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ], folder.FullName);
        var server = new PrometheusServer(process, folder, port);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await server.Http.GetAsync("-/ready");
                if (response.IsSuccessStatusCode)
                    return server;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            if (process.HasExited || clock.Elapsed > TestTimeouts.Startup)
            {
                var why = process.HasExited ? "prometheus exited" : TestTimeouts.Exceeded(TestTimeouts.Startup, "prometheus to be ready");
                await server.DisposeAsync();
                throw new InvalidOperationException($"{why}:\n{process.Describe()}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>An instant query; returns the "result" array (vector of {metric, value}).</summary>
    public async Task<JsonElement> Query(string promql)
    {
        using var response = await Http.GetAsync($"api/v1/query?query={Uri.EscapeDataString(promql)}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"query {promql}: {(int)response.StatusCode} {body}");
        using var doc = JsonDocument.Parse(body);
        Assert.Equal("success", doc.RootElement.GetProperty("status").GetString());
        return doc.RootElement.GetProperty("data").GetProperty("result").Clone();
    }

    /// <summary>The value of a query that yields one sample (null when it yields none).</summary>
    public async Task<double?> Scalar(string promql)
    {
        var result = await Query(promql);
        if (result.GetArrayLength() == 0)
            return null;
        return double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }

    /// <summary>A range query: one (labels, points) per series.</summary>
    public async Task<IReadOnlyList<(Dictionary<string, string> Labels, (double Time, double Value)[] Points)>> QueryRange(string promql, DateTimeOffset start, DateTimeOffset end, TimeSpan step)
    {
        var url = string.Create(CultureInfo.InvariantCulture,
            $"api/v1/query_range?query={Uri.EscapeDataString(promql)}&start={start.ToUnixTimeMilliseconds() / 1000.0}&end={end.ToUnixTimeMilliseconds() / 1000.0}&step={step.TotalSeconds}");
        using var response = await Http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"query_range {promql}: {(int)response.StatusCode} {body}");
        using var doc = JsonDocument.Parse(body);
        var series = new List<(Dictionary<string, string>, (double, double)[])>();
        foreach (var s in doc.RootElement.GetProperty("data").GetProperty("result").EnumerateArray())
        {
            var labels = s.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
            var points = s.GetProperty("values").EnumerateArray()
                .Select(v => (v[0].GetDouble(), double.Parse(v[1].GetString()!, CultureInfo.InvariantCulture)))
                .Where(p => double.IsFinite(p.Item2)).ToArray();
            series.Add((labels, points));
        }
        return series;
    }

    /// <summary>Every metric name Prometheus has stored.</summary>
    public async Task<IReadOnlyList<string>> MetricNames()
    {
        var body = await Http.GetStringAsync("api/v1/label/__name__/values");
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("data").EnumerateArray().Select(e => e.GetString()!).ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        _process.Terminate(TestTimeouts.Stop);
        _process.Dispose();
        await Task.Yield();
        try
        {
            _folder.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [GeneratedRegex(@"- targets: \[[^\]]*\]")]
    private static partial Regex TargetsLine();

    [GeneratedRegex(@"^(\s*(?:scrape_interval|evaluation_interval)):\s*\S+", RegexOptions.Multiline)]
    private static partial Regex IntervalLine();
}
