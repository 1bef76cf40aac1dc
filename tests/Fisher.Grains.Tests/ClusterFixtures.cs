using Fisher.Grains;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace Fisher.Grains.Tests;

/// <summary>
/// The Redis for the grain state of every test cluster of this test process: a private <c>redis-server</c> on a free
/// 127.0.0.1 port, started on first use and killed when the test process ends.
/// </summary>
public static class TestRedis
{
    private static readonly Lazy<RedisServer> Server = new(() => RedisServer.Start());

    public static string ConnectionString => Server.Value.Connection;
}

/// <summary>Silos with Fisher grains, Redis grain state, short leases and quick failure detection.</summary>
public sealed class FisherSiloConfigurator : ISiloConfigurator
{
    public void Configure(ISiloBuilder siloBuilder)
    {
        TestLeases.AddTo(siloBuilder.Services);
        AssignmentCapture.AddTo(siloBuilder);
        siloBuilder
            .AddFisherGrains(o =>
            {
                o.LeaseDuration = TimeSpan.FromSeconds(3);
                o.WorkerSlice = TimeSpan.FromMilliseconds(100);
                o.DispatchPeriod = TimeSpan.FromMilliseconds(100);
                o.ChunkElements = 20_000; // force multi-chunk partials on the test model
                o.DataRoots = [.. TestData.DataRoots];
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

public sealed class TwoSiloCluster() : ClusterFixture(2);
