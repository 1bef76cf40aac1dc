using Fisher.Contracts;

namespace Fisher.Grains.Tests;

/// <summary>
/// Only what a job's coordinator issued changes the job: forged partials, completions and failures of a running or a
/// finished job are ignored, and its results stay bit-identical.
/// </summary>
[Collection("clusters")]
public sealed class ForgedMessageTests(ThreeSiloCluster fixture) : IClassFixture<ThreeSiloCluster>
{
    [Fact]
    public async Task Forged_partials_completions_and_failures_change_nothing()
    {
        var grains = fixture.Cluster.GrainFactory;
        var spec = TestData.Spec(inputs: 600, shards: 3, grouping: "layer", quantities: "i1,exact", draws: 1);
        var id = "forged-" + Guid.NewGuid().ToString("N")[..8];
        var job = grains.GetGrain<IFisherJobGrain>(id);
        var started = await job.StartAsync(spec);
        Assert.True(started.State == JobState.Running, started.Error);

        // While it runs: a failure of an attempt it never issued, and a completion of a task nobody merged.
        await job.TaskFailedAsync("s0g0", 99, "guessed-key", "forged failure");
        await job.TaskCompletedAsync("s2g2", 1, "guessed-key");

        var status = await TestData.RunToEnd(grains, id, spec, TestTimeouts.Job);
        Assert.True(status.State == JobState.Completed, status.Error);
        var before = TestData.Flatten(await Submitter.Fetch(grains, status));

        // After it finished: partials for a planned task (already merged), an unplanned one, and a failure.
        var aggregator = grains.GetGrain<IMomentsAggregatorGrain>($"{id}/2");
        var slice = new MomentSlice("4.bias.exact", 200, 0, 10, Enumerable.Repeat(1e6, 10).ToArray(), new double[10]);
        Assert.Equal(MergeOutcome.Duplicate, await aggregator.AddChunkAsync(new PartialChunk("s0g2", 1, 0, 1, 200, [slice], "guessed-key")));
        Assert.Equal(MergeOutcome.Rejected, await aggregator.AddChunkAsync(new PartialChunk("s9g2", 1, 0, 1, 200, [slice], "guessed-key")));
        await job.TaskFailedAsync("s1g2", 1, "guessed-key", "forged failure after the end");

        var after = await job.GetStatusAsync();
        Assert.Equal(JobState.Completed, after.State);
        Assert.Null(after.Error);
        var again = TestData.Flatten(await Submitter.Fetch(grains, after));
        Assert.Equal(before.Keys.Order(StringComparer.Ordinal), again.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, moments) in before)
        {
            Assert.Equal(moments.Count, again[key].Count);
            Assert.Equal(moments.Mean, again[key].Mean); // bit for bit
            Assert.Equal(moments.M2, again[key].M2);
        }
        TestData.AssertSame(TestData.Direct(spec), again, 1e-10, "after forged messages vs an undisturbed direct run");
    }
}
