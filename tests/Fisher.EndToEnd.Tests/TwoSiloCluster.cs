using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Fisher.EndToEnd.Tests;

/// <summary>One Fisher.Silo process of the fixture.</summary>
public sealed record SiloProcess(TestProcess Process, int HttpPort, int SiloPort, int GatewayPort);

/// <summary>
/// Two Fisher.Silo processes with Redis membership in a private redis-server the fixture starts on a free port (and
/// kills at the end), with mutual TLS from <see cref="TestCertificates"/>; CLI commands take <see cref="ClientArguments"/>. Silos log grain activations (Orleans.Grain at Debug) so tests can see which silo ran which task.
/// </summary>
public sealed class TwoSiloCluster : IAsyncLifetime
{
    private const string MembershipKey = "fisher/members/fisher";

    public RedisServer Redis { get; private set; } = null!;

    /// <summary>The Redis connection string the silos use; clients pass it as --cluster.</summary>
    public string Connection => Redis.Connection;

    /// <summary>What a fisher command needs to reach the cluster: --cluster and the client certificate.</summary>
    public string[] ClientArguments => ["--cluster", Connection, .. TestCertificates.CliArguments()];

    /// <summary>A prefix for the tests' job ids.</summary>
    public string JobPrefix { get; } = $"e2e-{Guid.NewGuid().ToString("N")[..8]}";

    public IReadOnlyList<SiloProcess> Silos { get; private set; } = [];

    public DirectoryInfo Scratch { get; } = Directory.CreateTempSubdirectory("fisher-e2e-cluster-");

    /// <summary>Logs of both silos (tails), for assertion messages.</summary>
    public string Logs(int lines = 30) => string.Join("\n", Silos.Select((s, i) => $"===== silo {i} (gateway {s.GatewayPort}) =====\n{s.Process.Describe(lines)}"));

    public async Task InitializeAsync()
    {
        Redis = RedisServer.Start();
        var ports = TestProcess.FreePorts(6);
        var silos = new List<SiloProcess>();
        try
        {
            for (int i = 0; i < 2; i++)
            {
                int http = ports[3 * i], silo = ports[3 * i + 1], gateway = ports[3 * i + 2];
                var process = TestProcess.Start(TestProcess.SiloPath,
                [
                    $"--Fisher:Http:Address=127.0.0.1:{http}",
                    $"--Fisher:Redis={Connection}",
                    .. TestCertificates.SiloArguments(),
                    $"--Fisher:SiloPort={silo}",
                    $"--Fisher:GatewayPort={gateway}",
                    "--Logging:LogLevel:Orleans.Grain=Debug",
                    "--Logging:Console:FormatterName=simple",
                    "--Logging:Console:FormatterOptions:SingleLine=true",
                ]);
                silos.Add(new SiloProcess(process, http, silo, gateway));
            }
        }
        finally
        {
            Silos = silos; // disposed in DisposeAsync even if a later start fails
        }
        try
        {
            await WaitUntilServing(TestTimeouts.Startup);
        }
        catch
        {
            foreach (var s in Silos)
                s.Process.Kill();
            throw;
        }
    }

    private async Task WaitUntilServing(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        using var http = new HttpClient { Timeout = TestTimeouts.Request };
        var live = new bool[Silos.Count];
        string lastProblem = "";
        while (clock.Elapsed < timeout)
        {
            foreach (var s in Silos)
            {
                if (s.Process.HasExited)
                    throw new InvalidOperationException($"a silo exited while starting:\n{Logs(60)}");
            }
            for (int i = 0; i < Silos.Count; i++)
            {
                if (live[i])
                    continue;
                try
                {
                    var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{Silos[i].HttpPort}/health/live"));
                    live[i] = text.Trim() == "live";
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    lastProblem = $"silo {i} /health/live: {e.Message}";
                }
            }
            if (live.All(l => l))
            {
                var active = ActiveSiloPorts();
                var rings = await RingSizes(http);
                if (Silos.All(s => active.Contains(s.SiloPort)) && rings.All(n => n == Silos.Count))
                {
                    // Both rows say Active and each silo has both in its ring; give the silos a moment to exchange
                    // their load statistics (activation-count placement only places on silos it has them for).
                    await Task.Delay(TestTimeouts.Of(TimeSpan.FromSeconds(2)));
                    return;
                }
                lastProblem = $"active silo ports in Redis {MembershipKey}: [{string.Join(", ", active)}], orleans_consistent_ring_size of each silo: [{string.Join(", ", rings)}]";
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"the silos were not both live and Active in the membership table: {TestTimeouts.Exceeded(timeout, "both silos")} ({lastProblem}):\n{Logs(60)}");
    }

    /// <summary>How many silos each silo has in its consistent ring (orleans_consistent_ring_size on /metrics; 0 when absent).</summary>
    private async Task<int[]> RingSizes(HttpClient http)
    {
        var sizes = new int[Silos.Count];
        for (int i = 0; i < Silos.Count; i++)
        {
            try
            {
                var metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{Silos[i].HttpPort}/metrics"));
                var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith("orleans_consistent_ring_size", StringComparison.Ordinal));
                if (line is not null && double.TryParse(line[(line.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var size))
                    sizes[i] = (int)size;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
        }
        return sizes;
    }

    /// <summary>Silo ports of the rows of the Redis membership table whose status is Active (3).</summary>
    public IReadOnlySet<int> ActiveSiloPorts()
    {
        using var redis = new RedisProbe(Redis);
        var result = new HashSet<int>();
        foreach (var (field, value) in redis.HashGetAll(MembershipKey))
        {
            if (field == "Version")
                continue;
            using var row = JsonDocument.Parse(value);
            var address = row.RootElement.GetProperty("SiloAddress").GetProperty("SiloAddress").GetString() ?? "";
            if (row.RootElement.GetProperty("Status").GetInt32() == 3 && address.StartsWith("127.0.0.1:", StringComparison.Ordinal))
                result.Add(int.Parse(address["127.0.0.1:".Length..address.IndexOf('@', StringComparison.Ordinal)], CultureInfo.InvariantCulture));
        }
        return result;
    }

    /// <summary>How many shard-worker activations of a job each silo logged.</summary>
    public int[] WorkerActivations(string jobId) =>
        Silos.Select(s => s.Process.Stdout.Split('\n').Count(line =>
            line.Contains("Activating grain", StringComparison.Ordinal) &&
            line.Contains($"/shardworker/{jobId}/", StringComparison.Ordinal))).ToArray();

    public Task DisposeAsync()
    {
        // SIGTERM first, so each silo leaves the cluster as it would in production; killed if it does not stop.
        Parallel.ForEach(Silos, s => s.Process.Terminate(TestTimeouts.Stop));
        foreach (var s in Silos)
            s.Process.Dispose();
        Redis?.Dispose();
        try
        {
            Scratch.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
        return Task.CompletedTask;
    }
}
