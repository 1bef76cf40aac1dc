using System.Net.Sockets;
using Fisher.Grains;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace Fisher.Grains.Tests;

/// <summary>A real Redis on 127.0.0.1 (started by .ci/run): grain state of every test cluster lives there.</summary>
public static class TestRedis
{
    public static string ConnectionString => Environment.GetEnvironmentVariable("FISHER_TEST_REDIS") ?? "127.0.0.1:6379";

    public static void EnsureReachable()
    {
        var parts = ConnectionString.Split(':');
        try
        {
            using var client = new TcpClient();
            client.Connect(parts[0], parts.Length > 1 ? int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) : 6379);
        }
        catch (SocketException e)
        {
            throw new InvalidOperationException($"the cluster tests need a Redis server at {ConnectionString} (.ci/run starts one; locally: redis-server --port 6379 --bind 127.0.0.1 --daemonize yes)", e);
        }
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
        TestRedis.EnsureReachable();
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
