using System.Diagnostics;
using Fisher.EndToEnd.Tests;

namespace Fisher.Silo.Tests;

/// <summary>The embedded CLI serves /metrics when asked (FISHER_METRICS_PORT; <c>--metrics-port</c> sets the same).</summary>
public sealed class EmbeddedMetricsTests
{
    [Fact]
    public async Task Embedded_cli_serves_fisher_and_Orleans_metrics_while_its_job_runs()
    {
        int port = TestProcess.FreePorts(1)[0];
        var scratch = Directory.CreateTempSubdirectory("fisher-embedded-metrics-");
        var info = new ProcessStartInfo(TestProcess.FisherPath)
        {
            WorkingDirectory = TestProcess.RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // A job long enough (~0.7 s of compute on 2 cores, then the report) for scrapes every 25 ms to catch it running: with
        // 600 inputs and two estimators it ended between two scrapes once the estimator got faster.
        foreach (var a in new[] { "estimate", "--no-progress", "--inputs", "2000", "--draws", "16", "--shards", "3", "--estimators", "everything", "--out", Path.Combine(scratch.FullName, "out") })
            info.ArgumentList.Add(a);
        info.Environment["FISHER_METRICS_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var cli = Process.Start(info)!;
        var stdout = cli.StandardOutput.ReadToEndAsync();
        var stderr = cli.StandardError.ReadToEndAsync();
        using var http = new HttpClient { Timeout = TestTimeouts.Request };
        Scrape? during = null;
        try
        {
            var clock = Stopwatch.StartNew();
            while (!cli.HasExited && clock.Elapsed < TestTimeouts.Job)
            {
                try
                {
                    var scrape = new Scrape(await http.GetStringAsync($"http://127.0.0.1:{port}/metrics"));
                    if (scrape.Names.Contains("fisher_worker_samples_total"))
                        during = scrape;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                }
                await Task.Delay(25);
            }
            await cli.WaitForExitAsync().WaitAsync(TestTimeouts.Job);
            Assert.True(cli.ExitCode == 0, $"exit code {cli.ExitCode}\n{await stdout}\n{await stderr}");
            Assert.Contains($"metrics on http://127.0.0.1:{port}/metrics", await stdout, StringComparison.Ordinal);
            Assert.NotNull(during);
            Assert.Contains(during.Names, n => n.StartsWith("orleans_", StringComparison.Ordinal));
            Assert.Contains("process_memory_usage_bytes", during.Names);
            Assert.All(during.Samples.Where(s => s.Name == "fisher_worker_samples_total"), s => Assert.True(s.Labels.ContainsKey("group")));
        }
        finally
        {
            if (!cli.HasExited)
                cli.Kill(entireProcessTree: true);
            scratch.Delete(recursive: true);
        }
    }
}
