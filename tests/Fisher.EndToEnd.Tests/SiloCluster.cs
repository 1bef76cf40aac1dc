using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Fisher.EndToEnd.Tests;

/// <summary>One Fisher.Silo process of a cluster fixture (a restarted silo keeps its ports).</summary>
public sealed record SiloProcess(TestProcess Process, int HttpPort, int SiloPort, int GatewayPort);

/// <summary>
/// N Fisher.Silo processes with Redis membership in a private redis-server the fixture starts on a free port (and
/// kills at the end), with mutual TLS from <see cref="TestCertificates"/>. Silos log grain activations (Orleans.Grain at Debug) so tests can see which silo ran which task.
/// A silo can be killed (SIGKILL) and restarted on its ports, and Redis restarted empty on its port. Every silo is
/// launched by <see cref="LaunchArguments"/>, the one place that says how.
/// </summary>
public class SiloCluster : IAsyncLifetime
{
    private const string MembershipKey = "fisher/members/fisher";

    private readonly int _count;
    private readonly string[] _settings;
    private readonly SiloProcess?[] _silos;
    private readonly List<string> _pastLogs = [];

    /// <param name="count">Silos.</param>
    /// <param name="settings">Extra silo arguments (<c>--Fisher:Grains:LeaseDuration=00:00:05</c>, ...).</param>
    public SiloCluster(int count, params string[] settings)
    {
        _count = count;
        _settings = settings;
        _silos = new SiloProcess?[count];
    }

    public RedisServer Redis { get; private set; } = null!;

    /// <summary>The Redis connection string the silos use; clients pass it as --cluster.</summary>
    public string Connection => Redis.Connection;

    /// <summary>What a fisher command needs to reach the cluster: --cluster and the client certificate (<see cref="TestCertificates"/>).</summary>
    public string[] ClientArguments => ["--cluster", Connection, .. TestCertificates.CliArguments()];

    /// <summary>A prefix for the tests' job ids.</summary>
    public string JobPrefix { get; } = $"e2e-{Guid.NewGuid().ToString("N")[..8]}";

    public IReadOnlyList<SiloProcess> Silos => _silos.Select(s => s!).ToArray();

    public DirectoryInfo Scratch { get; } = Directory.CreateTempSubdirectory("fisher-e2e-cluster-");

    /// <summary>The environment of every silo: test faults are allowed (<c>FISHER_TEST_FAULTS=1</c>).</summary>
    private static readonly Dictionary<string, string?> Environment = new() { ["FISHER_TEST_FAULTS"] = "1" };

    /// <summary>How every silo of the fixture is started: its ports, the fixture's Redis, logging, the test's settings.</summary>
    private IEnumerable<string> LaunchArguments(int http, int silo, int gateway) =>
    [
        $"--Fisher:Http:Address=127.0.0.1:{http}",
        $"--Fisher:Redis={Connection}",
        .. TestCertificates.SiloArguments(),
        $"--Fisher:SiloPort={silo}",
        $"--Fisher:GatewayPort={gateway}",
        .. TestProcess.DataRootArguments,
        "--Logging:LogLevel:Orleans.Grain=Debug",
        "--Logging:Console:FormatterName=simple",
        "--Logging:Console:FormatterOptions:SingleLine=true",
        .. _settings,
    ];

    /// <summary>Logs of every silo (tails, with those of killed processes), for assertion messages.</summary>
    public string Logs(int lines = 30) =>
        string.Join("\n", _pastLogs.Concat(_silos.Select((s, i) => s is null ? "" : $"===== silo {i} (gateway {s.GatewayPort}) =====\n{s.Process.Describe(lines)}")));

    public async Task InitializeAsync()
    {
        Redis = RedisServer.Start();
        var ports = TestProcess.FreePorts(3 * _count);
        try
        {
            for (int i = 0; i < _count; i++)
                _silos[i] = Launch(ports[3 * i], ports[3 * i + 1], ports[3 * i + 2]);
            await WaitUntilServing(TestTimeouts.Startup);
        }
        catch
        {
            foreach (var s in _silos)
                s?.Process.Kill();
            throw;
        }
    }

    private SiloProcess Launch(int http, int silo, int gateway) =>
        new(TestProcess.Start(TestProcess.SiloPath, LaunchArguments(http, silo, gateway), environment: Environment), http, silo, gateway);

    /// <summary>Kills silo <paramref name="index"/> at once (SIGKILL: no goodbye to the cluster).</summary>
    public void Kill(int index)
    {
        var s = _silos[index]!;
        s.Process.Kill();
        _pastLogs.Add($"===== silo {index} (gateway {s.GatewayPort}), killed =====\n{s.Process.Describe(30)}");
    }

    /// <summary>Starts silo <paramref name="index"/> again on its ports (after it was killed or crashed).</summary>
    public void Restart(int index)
    {
        var old = _silos[index]!;
        if (!old.Process.HasExited)
            throw new InvalidOperationException($"silo {index} still runs");
        if (!_pastLogs.Any(l => l.Contains($"(gateway {old.GatewayPort}), killed", StringComparison.Ordinal)))
            _pastLogs.Add($"===== silo {index} (gateway {old.GatewayPort}), exited =====\n{old.Process.Describe(30)}");
        old.Process.Dispose();
        _silos[index] = Launch(old.HttpPort, old.SiloPort, old.GatewayPort);
    }

    /// <summary>Restarts every silo that has exited; returns how many.</summary>
    public int RestartExited()
    {
        int restarted = 0;
        for (int i = 0; i < _count; i++)
        {
            if (_silos[i]!.Process.HasExited)
            {
                Restart(i);
                restarted++;
            }
        }
        return restarted;
    }

    /// <summary>Kills Redis and starts an empty one on the same port (what a Redis without persistence does on a restart).</summary>
    public void RestartRedisEmpty()
    {
        int port = Redis.Port;
        Redis.Dispose();
        Redis = RedisServer.Start(port);
    }

    /// <summary>Waits until every silo answers /health/live, is Active in the Redis membership and sees all in its ring.</summary>
    public async Task WaitUntilServing(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        using var http = new HttpClient { Timeout = TestTimeouts.Request };
        string lastProblem = "";
        while (clock.Elapsed < timeout)
        {
            if (Silos.FirstOrDefault(s => s.Process.HasExited) is { } exited)
                throw new InvalidOperationException($"a silo exited while starting:\n{Logs(60)}");
            var live = await Task.WhenAll(Silos.Select(s => Answers(http, s, "health/live")));
            if (live.All(l => l == "live"))
            {
                var active = ActiveSiloPorts();
                var rings = await Task.WhenAll(Silos.Select(s => Metric(http, s, "orleans_consistent_ring_size")));
                if (Silos.All(s => active.Contains(s.SiloPort)) && rings.All(n => n == _count))
                {
                    // Every row says Active and each silo has all in its ring; give the silos a moment to exchange
                    // their load statistics.
                    await Task.Delay(TestTimeouts.Of(TimeSpan.FromSeconds(2)));
                    return;
                }
                lastProblem = $"active silo ports in Redis {MembershipKey}: [{string.Join(", ", active)}], orleans_consistent_ring_size of each silo: [{string.Join(", ", rings)}]";
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"the silos were not all live and Active in the membership table: {TestTimeouts.Exceeded(timeout, $"{_count} silos")} ({lastProblem}):\n{Logs(60)}");
    }

    /// <summary>The body of GET /<paramref name="path"/> of <paramref name="silo"/>, or null when it does not answer 2xx.</summary>
    public static async Task<string?> Answers(HttpClient http, SiloProcess silo, string path)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(silo);
        try
        {
            return (await http.GetStringAsync(new Uri($"http://127.0.0.1:{silo.HttpPort}/{path}"))).Trim();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>The sum of a metric's samples on <paramref name="silo"/>'s /metrics (every label set); 0 when absent or unreachable.</summary>
    public static async Task<double> Metric(HttpClient http, SiloProcess silo, string name)
    {
        var text = await Answers(http, silo, "metrics");
        if (text is null)
            return 0;
        double sum = 0;
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(name, StringComparison.Ordinal) || (line.Length > name.Length && line[name.Length] is not (' ' or '{')))
                continue;
            if (double.TryParse(line[(line.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                sum += value;
        }
        return sum;
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
