using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Fisher.EndToEnd.Tests;

namespace Fisher.Silo.Tests;

/// <summary>
/// One Fisher.Silo (localhost clustering, in-memory state, traces to an in-test OTLP receiver), a Prometheus server
/// scraping it every second with the shipped configuration, and one job run through the silo's gateway with the
/// fisher CLI. <c>FISHER_DASHBOARD_INPUTS</c>, <c>FISHER_DASHBOARD_DRAWS</c> and <c>FISHER_DASHBOARD_SHARDS</c> make the job
/// larger (for docs/dashboard.png).
/// </summary>
public sealed class MonitoredSilo : IAsyncLifetime
{
    public int HttpPort { get; private set; }

    public int GatewayPort { get; private set; }

    public TestProcess Silo { get; private set; } = null!;

    public PrometheusServer Prometheus { get; private set; } = null!;

    public OtlpReceiver Otlp { get; private set; } = null!;

    public DirectoryInfo Scratch { get; } = Directory.CreateTempSubdirectory("fisher-silo-tests-");

    public string JobId { get; private set; } = "";

    public long Inputs { get; private set; }

    public int Shards { get; private set; }

    public IReadOnlyList<string> Groups { get; private set; } = [];

    /// <summary>Wall-clock window of the job (with a margin), for range queries.</summary>
    public DateTimeOffset JobStarted { get; private set; }

    public DateTimeOffset JobFinished { get; private set; }

    /// <summary>The silo's /metrics right after the job.</summary>
    public Scrape AfterJob { get; private set; } = null!;

    public ProcessResult Cli { get; private set; } = null!;

    public string Logs() => $"===== silo =====\n{Silo?.Describe(30)}\n===== prometheus =====\n{Prometheus?.Describe()}";

    public static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : fallback;

    public async Task InitializeAsync()
    {
        var ports = TestProcess.FreePorts(4);
        HttpPort = ports[0];
        GatewayPort = ports[2];
        Otlp = new OtlpReceiver(ports[3]);
        Silo = TestProcess.Start(TestProcess.SiloPath,
        [
            $"--Fisher:Http:Address=127.0.0.1:{HttpPort}",
            $"--Fisher:SiloPort={ports[1]}",
            $"--Fisher:GatewayPort={GatewayPort}",
            "--Fisher:Health:DrainDelay=00:00:00",
            .. TestProcess.DataRootArguments,
            $"--OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{Otlp.Port}",
            "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
            "--OTEL_BSP_SCHEDULE_DELAY=300",
            "--Logging:LogLevel:Microsoft.AspNetCore=Warning",
        ]);
        using var http = new HttpClient { Timeout = TestTimeouts.Request };
        await Until(async () =>
        {
            if (Silo.HasExited)
                throw new InvalidOperationException($"the silo exited while starting:\n{Logs()}");
            try
            {
                using var r = await http.GetAsync($"http://127.0.0.1:{HttpPort}/health/ready");
                return r.IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, TestTimeouts.Startup, "the silo to answer /health/ready with 200");

        Prometheus = await PrometheusServer.Start([$"127.0.0.1:{HttpPort}"]);
        // A few scrapes of the idle silo before the job, so rates start from it.
        await Until(async () => await Prometheus.Scalar("count_over_time(up{job=\"fisher-silo\"}[1m])") >= 3 && await Prometheus.Scalar("up{job=\"fisher-silo\"}") == 1,
            TestTimeouts.Startup, "Prometheus to scrape the silo three times");

        // Long enough (a few seconds) that the 1 s scrapes see the counters move: rates need two samples of a series.
        int inputs = EnvInt("FISHER_DASHBOARD_INPUTS", 2000), draws = EnvInt("FISHER_DASHBOARD_DRAWS", 400);
        Shards = EnvInt("FISHER_DASHBOARD_SHARDS", 4);
        var output = Path.Combine(Scratch.FullName, "result");
        JobStarted = DateTimeOffset.UtcNow;
        Cli = await TestProcess.Run(TestProcess.FisherPath,
        [
            "estimate", "--gateway", $"127.0.0.1:{GatewayPort}", "--no-progress",
            "--inputs", inputs.ToString(CultureInfo.InvariantCulture), "--draws", draws.ToString(CultureInfo.InvariantCulture),
            "--shards", Shards.ToString(CultureInfo.InvariantCulture), "--estimators", "i1,i2,exact", "--seed", "3", "--out", output,
        ], TestTimeouts.Of(TimeSpan.FromMinutes(10))); // FISHER_DASHBOARD_* can make the job large
        JobFinished = DateTimeOffset.UtcNow;
        Assert.True(Cli.ExitCode == 0, $"{Cli.Describe()}\n{Logs()}");
        using (var summary = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "summary.json"))))
        {
            JobId = summary.RootElement.GetProperty("jobId").GetString()!;
            Inputs = summary.RootElement.GetProperty("inputs").GetInt64();
            Groups = summary.RootElement.GetProperty("groups").EnumerateArray().Select(g => g.GetProperty("name").GetString()!).ToArray();
        }
        AfterJob = new Scrape(await http.GetStringAsync($"http://127.0.0.1:{HttpPort}/metrics"));
    }

    public static async Task Until(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
                throw new TimeoutException(TestTimeouts.Exceeded(timeout, what));
            await Task.Delay(200);
        }
    }

    public async Task DisposeAsync()
    {
        if (Prometheus is not null)
            await Prometheus.DisposeAsync();
        Silo?.Terminate(TestTimeouts.Stop);
        Silo?.Dispose();
        Otlp?.Dispose();
        try
        {
            Scratch.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
