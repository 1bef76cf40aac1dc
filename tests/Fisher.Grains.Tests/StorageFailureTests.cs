using System.Collections.Concurrent;
using Fisher.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Fisher.Grains.Tests;

/// <summary>Grain storage that keeps state in memory and fails the next write of a grain whose key contains "flaky", once.</summary>
public sealed class FlakyStorage : IGrainStorage
{
    private readonly ConcurrentDictionary<string, object> _states = new();
    private readonly ConcurrentDictionary<string, bool> _failed = new();

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_states.TryGetValue($"{stateName}/{grainId}", out var stored))
        {
            grainState.State = (T)stored;
            grainState.RecordExists = true;
            grainState.ETag = "1";
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var key = $"{stateName}/{grainId}";
        if (key.Contains("flaky", StringComparison.Ordinal) && _failed.TryAdd(key, true))
            throw new IOException($"injected write failure for {key}");
        _states[key] = grainState.State!;
        grainState.RecordExists = true;
        grainState.ETag = "1";
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        _states.TryRemove($"{stateName}/{grainId}", out _);
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }
}

public sealed class FlakyStorageConfigurator : ISiloConfigurator
{
    public void Configure(ISiloBuilder siloBuilder)
    {
        TestLeases.AddTo(siloBuilder.Services);
        siloBuilder.AddFisherGrains().Services.AddGrainStorage(FisherHosting.StorageName, (_, _) => new FlakyStorage());
    }
}

public sealed class FlakyStorageCluster : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(1);
        builder.AddSiloBuilderConfigurator<FlakyStorageConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>A partial whose merge could not be persisted is not merged: its retry is merged, not taken for a duplicate.</summary>
[Collection("clusters")]
public sealed class StorageFailureTests(FlakyStorageCluster fixture) : IClassFixture<FlakyStorageCluster>
{
    [Fact]
    public async Task AFailedWriteLeavesTheTaskUnmergedSoItsRetryCounts()
    {
        var job = $"{TestLeases.Prefix}flaky-{Guid.NewGuid():N}";
        TestLeases.Grant(job, "s0g0", 10, ("0.bias", 2));
        var aggregator = fixture.Cluster.GrainFactory.GetGrain<IMomentsAggregatorGrain>($"{job}/0");
        var slice = new MomentSlice("0.bias.exact", 10, 0, 2, [1.0, 2.0], [0.5, 0.25]);
        var chunk = new PartialChunk("s0g0", 1, 0, 1, 10, [slice], TestLeases.Key);

        await Assert.ThrowsAnyAsync<Exception>(() => aggregator.AddChunkAsync(chunk));
        Assert.Equal(MergeOutcome.Merged, await aggregator.AddChunkAsync(chunk));
        Assert.Equal(MergeOutcome.Duplicate, await aggregator.AddChunkAsync(chunk));

        var info = await aggregator.GetInfoAsync(TestLeases.Token);
        Assert.Equal(["s0g0"], info.MergedTasks);
        Assert.Equal(10, info.Inputs);
        Assert.Equal(10, (await aggregator.ReadAsync(TestLeases.Token, "0.bias.exact", 0, 2)).Count);
    }
}
