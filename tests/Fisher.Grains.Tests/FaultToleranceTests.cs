using Fisher.Contracts;
using Orleans.Runtime;

namespace Fisher.Grains.Tests;

/// <summary>A silo that dies while a job runs on three loses no work and counts none twice.</summary>
[Collection("clusters")]
public sealed class FaultToleranceTests(FaultCluster fixture) : IClassFixture<FaultCluster>
{
    [Fact]
    public async Task KillingASiloWithRunningWorkersLeavesTheEstimatesUnchanged()
    {
        var cluster = fixture.Cluster;
        // Long enough (about 10 s) that workers are caught mid-task: every quantity, 4 draws, small batches, 3 tasks at once.
        var spec = TestData.Spec(inputs: 2000, shards: 6, grouping: "layer", quantities: "all", draws: 4) with { BatchSize = 16, MaxConcurrentTasks = 3 };
        var id = "fault-" + Guid.NewGuid().ToString("N")[..8];
        var job = cluster.GrainFactory.GetGrain<IFisherJobGrain>(id);
        var status = await job.StartAsync(spec);
        Assert.True(status.State == JobState.Running, status.Error);

        // Wait until workers run, then kill a secondary silo that hosts at least one of them.
        var management = cluster.GrainFactory.GetGrain<IManagementGrain>(0);
        SiloAddress? victim = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (victim is null)
        {
            Assert.True(clock.Elapsed < TestTimeouts.Settle, TestTimeouts.Exceeded(TestTimeouts.Settle, "a worker to run on a secondary silo"));
            status = await job.GetStatusAsync();
            var stats = await management.GetSimpleGrainStatistics();
            Assert.False(status.IsFinished, $"the job ended ({status.State}{(status.Error is null ? "" : ": " + status.Error)}) before a silo could be killed; make it longer. Seen: " + string.Join(", ", stats.Select(s => $"{s.GrainType}@{s.SiloAddress}x{s.ActivationCount}")));
            var secondaries = cluster.SecondarySilos.Select(s => s.SiloAddress).ToHashSet();
            victim = stats.Where(s => s.GrainType.Contains(nameof(ShardWorkerGrain), StringComparison.Ordinal) && s.ActivationCount > 0)
                .Select(s => s.SiloAddress).FirstOrDefault(secondaries.Contains);
            if (victim is null || status.WorkDone == 0)
            {
                victim = null;
                await Task.Delay(50);
            }
        }
        var handle = cluster.SecondarySilos.First(s => s.SiloAddress.Equals(victim));
        await cluster.KillSiloAsync(handle);

        status = await TestData.RunToEnd(cluster.GrainFactory, id, spec, TestTimeouts.Job);
        Assert.True(status.State == JobState.Completed, status.Error);
        Assert.True(status.Redispatches >= 1, "no task was re-dispatched: the kill hit no running worker");

        var groups = await JobResults.Fetch(cluster.GrainFactory, status);
        foreach (var group in groups)
        {
            Assert.Equal(6, group.MergedTasks.Count);
            Assert.Equal(2000, group.Inputs);
            foreach (var (key, m) in group.Streams)
                Assert.Equal(key.EndsWith(".i1", StringComparison.Ordinal) || key.EndsWith(".i2", StringComparison.Ordinal) ? 8000 : 2000, m.Count);
        }
        TestData.AssertSame(TestData.Direct(spec), TestData.Flatten(groups), 1e-10, "after a silo kill vs undisturbed direct run");
    }
}
