using Fisher.Contracts;

namespace Fisher.Grains.Tests;

/// <summary>
/// A residual CNN job on three silos that loses a silo with running workers re-dispatches their tasks and still gives
/// the undisturbed direct run's moments to 1e-10 (float64): layout independence through retries.
/// </summary>
[Collection("clusters")]
public sealed class GraphFaultToleranceTests(FaultCluster fixture) : IClassFixture<FaultCluster>
{
    [Fact]
    public async Task KillingASiloWithRunningCnnWorkersLeavesTheEstimatesUnchanged()
    {
        var cluster = fixture.Cluster;
        using var cnn = new ResidualCnn(rows: 1600);
        // Long enough that workers are caught mid-task: every quantity, 4 draws, small batches, 3 tasks at once.
        var spec = cnn.Spec(inputs: 1600, shards: 2, grouping: "layer") with { DrawsPerInput = 4, BatchSize = 16, MaxConcurrentTasks = 3 };
        var id = "cnn-fault-" + Guid.NewGuid().ToString("N")[..8];
        var job = cluster.GrainFactory.GetGrain<IFisherJobGrain>(id);
        var status = await job.StartAsync(spec);
        Assert.True(status.State == JobState.Running, status.Error);

        await SiloKiller.KillOneRunningAWorkerAsync(cluster, job);

        status = await TestData.RunToEnd(cluster.GrainFactory, id, spec, TestTimeouts.Job);
        Assert.True(status.State == JobState.Completed, status.Error);
        Assert.True(status.Redispatches >= 1, "no task was re-dispatched: the kill hit no running worker");
        var groups = await Submitter.Fetch(cluster.GrainFactory, status);
        Assert.Equal(ResidualCnn.ParameterLayers, groups.Select(g => g.Group));
        Assert.All(groups, g => Assert.Equal(2, g.MergedTasks.Count));
        TestData.AssertSame(TestData.Direct(spec), TestData.Flatten(groups), 1e-10, "CNN after a silo kill vs undisturbed direct run");
    }
}
