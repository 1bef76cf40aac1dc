using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Fisher.Grains;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace Fisher.Grains.Tests;

/// <summary>
/// A real Redis on 127.0.0.1 for the grain state of every test cluster: <c>FISHER_TEST_REDIS</c> when set, else a
/// private <c>redis-server</c> (Debian's package; <c>.ci/run</c> installs it) on a free port for this test process.
/// </summary>
public static class TestRedis
{
    private static readonly Lazy<string> Server = new(Start);

    public static string ConnectionString => Server.Value;

    private static string Start()
    {
        if (Environment.GetEnvironmentVariable("FISHER_TEST_REDIS") is { Length: > 0 } configured)
            return configured;
        int port;
        using (var listener = new TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }
        Process process;
        try
        {
            process = Process.Start(new ProcessStartInfo("redis-server", ["--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no"])
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("the cluster tests need Debian's redis-server (apt-get install redis-server; .ci/run installs it), or FISHER_TEST_REDIS=host:port of a running Redis", e);
        }
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (!process.HasExited)
                process.Kill();
        };
        for (int i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect("127.0.0.1", port);
                return $"127.0.0.1:{port}";
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }
        throw new InvalidOperationException($"redis-server did not listen on 127.0.0.1:{port} within 5 s");
    }
}

/// <summary>Silos with Fisher grains, Redis grain state, short leases and quick failure detection.</summary>
public sealed class FisherSiloConfigurator : ISiloConfigurator
{
    public void Configure(ISiloBuilder siloBuilder)
    {
        siloBuilder
            .AddFisherGrains(o =>
            {
                o.LeaseDuration = TimeSpan.FromSeconds(3);
                o.WorkerSlice = TimeSpan.FromMilliseconds(100);
                o.DispatchPeriod = TimeSpan.FromMilliseconds(100);
                o.ChunkElements = 20_000; // force multi-chunk partials on the test model
            })
            .UseFisherRedis(TestRedis.ConnectionString, clustering: false)
            .Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.NumVotesForDeathDeclaration = 1;
            });
    }
}

/// <summary>A test cluster of a given size, started once per test class.</summary>
public abstract class ClusterFixture : IAsyncLifetime
{
    private readonly int _silos;

    protected ClusterFixture(int silos) => _silos = silos;

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _ = TestRedis.ConnectionString;
        var builder = new TestClusterBuilder((short)_silos);
        builder.AddSiloBuilderConfigurator<FisherSiloConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
            await Cluster.DisposeAsync();
    }
}

public sealed class OneSiloCluster() : ClusterFixture(1);

public sealed class ThreeSiloCluster() : ClusterFixture(3);

public sealed class FaultCluster() : ClusterFixture(3);
