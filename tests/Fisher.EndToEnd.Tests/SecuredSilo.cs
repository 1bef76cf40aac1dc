using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Fisher.EndToEnd.Tests;

/// <summary>
/// One Fisher.Silo as docs/security.md runs it: Redis with a password (the fixture's own redis-server), mutual TLS with
/// the <see cref="TestCertificates.Cluster"/> set, health endpoints and /metrics on two separate loopback ports.
/// </summary>
public sealed class SecuredSilo : IAsyncLifetime
{
    public RedisServer Redis { get; private set; } = null!;

    public TestProcess Silo { get; private set; } = null!;

    public int HealthPort { get; private set; }

    public int MetricsPort { get; private set; }

    public int SiloPort { get; private set; }

    public int GatewayPort { get; private set; }

    public DirectoryInfo Scratch { get; } = Directory.CreateTempSubdirectory("fisher-e2e-secured-");

    public async Task InitializeAsync()
    {
        Redis = RedisServer.Start(password: $"pw-{Guid.NewGuid():N}");
        var ports = TestProcess.FreePorts(4);
        (HealthPort, MetricsPort, SiloPort, GatewayPort) = (ports[0], ports[1], ports[2], ports[3]);
        Silo = TestProcess.Start(TestProcess.SiloPath, [.. Arguments(Redis.Connection, TestCertificates.SiloArguments(), HealthPort, SiloPort, GatewayPort), $"--Fisher:Http:MetricsAddress=127.0.0.1:{MetricsPort}"]);
        await WaitUntilReady(Silo, HealthPort, TestTimeouts.Startup);
    }

    /// <summary>The arguments of a silo of this cluster (or of an intruder, with other TLS arguments).</summary>
    public static string[] Arguments(string redis, string[] tls, int healthPort, int siloPort, int gatewayPort) =>
    [
        $"--Fisher:Redis={redis}",
        .. tls,
        $"--Fisher:Http:Address=127.0.0.1:{healthPort}",
        $"--Fisher:SiloPort={siloPort}",
        $"--Fisher:GatewayPort={gatewayPort}",
        .. TestProcess.DataRootArguments,
        "--Logging:LogLevel:Microsoft.AspNetCore=Warning",
    ];

    /// <summary>The silo's /health/ready says 200 (fails early if the process exits).</summary>
    public static async Task WaitUntilReady(TestProcess silo, int healthPort, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TestTimeouts.Request };
        var clock = Stopwatch.StartNew();
        while (await Status(http, healthPort, "health/ready") != HttpStatusCode.OK)
        {
            if (silo.HasExited)
                throw new InvalidOperationException($"the silo exited while starting:\n{silo.Describe(60)}");
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"{TestTimeouts.Exceeded(timeout, "/health/ready 200")}:\n{silo.Describe(60)}");
            await Task.Delay(250);
        }
    }

    /// <summary>The HTTP status of a GET on 127.0.0.1:<paramref name="port"/>, null when nothing answers.</summary>
    public static async Task<HttpStatusCode?> Status(HttpClient http, int port, string path)
    {
        ArgumentNullException.ThrowIfNull(http);
        try
        {
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/{path}"));
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>orleans_consistent_ring_size on the silo's /metrics: how many silos it counts in the cluster.</summary>
    public async Task<int> RingSize()
    {
        using var http = new HttpClient { Timeout = TestTimeouts.Request };
        var metrics = await http.GetStringAsync(new Uri($"http://127.0.0.1:{MetricsPort}/metrics"));
        var line = metrics.Split('\n').First(l => l.StartsWith("orleans_consistent_ring_size", StringComparison.Ordinal));
        return (int)double.Parse(line[(line.LastIndexOf(' ') + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    public Task DisposeAsync()
    {
        Silo?.Terminate(TestTimeouts.Stop);
        Silo?.Dispose();
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
