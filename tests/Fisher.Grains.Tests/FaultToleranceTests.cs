using Fisher.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace Fisher.Grains.Tests;

/// <summary>
/// A silo that dies while a job runs on three loses no work and counts none twice; with one attempt allowed per task,
/// the same loss fails the job with the reason instead (a task that takes silos down must not run forever).
/// </summary>
[Collection("clusters")]
public sealed class FaultToleranceTests(FaultCluster fixture) : IClassFixture<FaultCluster>
{
    [Fact]
    public async Task KillingASiloWithRunningWorkersLeavesTheEstimatesUnchanged()
    {
        var cluster = fixture.Cluster;
        // Long enough (about 10 s) that workers are caught mid-task: every quantity, 4 draws, small batches, 3 tasks at once,
        // two shards of 1,000 rows (the first worker seen on a secondary silo is still computing when it is killed).
        var spec = TestData.Spec(inputs: 2000, shards: 2, grouping: "layer", quantities: "all", draws: 4) with { BatchSize = 16, MaxConcurrentTasks = 3 };
        var id = "fault-" + Guid.NewGuid().ToString("N")[..8];
        var job = cluster.GrainFactory.GetGrain<IFisherJobGrain>(id);
        var status = await job.StartAsync(spec);
        Assert.True(status.State == JobState.Running, status.Error);

        // Wait until workers run, then kill a secondary silo that hosts at least one of them.
        await SiloKiller.KillOneRunningAWorkerAsync(cluster, job);

        status = await TestData.RunToEnd(cluster.GrainFactory, id, spec, TestTimeouts.Job);
        Assert.True(status.State == JobState.Completed, status.Error);
        Assert.True(status.Redispatches >= 1, "no task was re-dispatched: the kill hit no running worker");

        var groups = await Submitter.Fetch(cluster.GrainFactory, status);
        foreach (var group in groups)
        {
            Assert.Equal(2, group.MergedTasks.Count); // one task per shard in each group
            Assert.Equal(2000, group.Inputs);
            foreach (var (key, m) in group.Streams)
                Assert.Equal(key.EndsWith(".i1", StringComparison.Ordinal) || key.EndsWith(".i2", StringComparison.Ordinal) ? 8000 : 2000, m.Count);
        }
        TestData.AssertSame(TestData.Direct(spec), TestData.Flatten(groups), 1e-10, "after a silo kill vs undisturbed direct run");
    }
}

/// <summary>Three silos whose jobs allow each task one attempt (<see cref="FisherOptions.MaxTaskAttempts"/> = 1).</summary>
public sealed class OneAttemptCluster : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _ = TestRedis.ConnectionString;
        var builder = new TestClusterBuilder(3);
        builder.AddSiloBuilderConfigurator<OneAttemptConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    private sealed class OneAttemptConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            new FisherSiloConfigurator().Configure(siloBuilder);
            siloBuilder.Services.Configure<FisherOptions>(o => o.MaxTaskAttempts = 1);
        }
    }
}

[Collection("clusters")]
public sealed class PoisonJobTests(OneAttemptCluster fixture) : IClassFixture<OneAttemptCluster>
{
    [Fact]
    public async Task A_task_that_loses_its_worker_more_often_than_allowed_fails_the_job_with_the_reason()
    {
        // Two shards (1,000 rows a task): the first worker seen on a secondary silo is still computing when it is killed
        // (with six shorter tasks it had sometimes finished, its activation lingering, and the job completed).
        var spec = TestData.Spec(inputs: 2000, shards: 2, grouping: "layer", quantities: "all", draws: 4) with { BatchSize = 16, MaxConcurrentTasks = 3 };
        var job = fixture.Cluster.GrainFactory.GetGrain<IFisherJobGrain>("poison-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Equal(JobState.Running, (await job.StartAsync(spec)).State);

        await SiloKiller.KillOneRunningAWorkerAsync(fixture.Cluster, job);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var status = await job.GetStatusAsync();
        while (!status.IsFinished && clock.Elapsed < TestTimeouts.Job)
        {
            await Task.Delay(100);
            status = await job.GetStatusAsync();
        }
        Assert.True(status.State == JobState.Failed, $"expected Failed, got {status.State}: {status.Error}");
        Assert.Contains("lost its worker 1 time", status.Error, StringComparison.Ordinal);
        Assert.Contains("MaxTaskAttempts", status.Error, StringComparison.Ordinal);
        // (Tasks of that silo that were only shipping their partial are dispatched again instead: a slow merge is not a
        // task that takes its silo down.)
    }
}
