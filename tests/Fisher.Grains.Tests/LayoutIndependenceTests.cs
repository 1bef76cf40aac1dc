using Fisher.Contracts;
using Fisher.Estimators;

namespace Fisher.Grains.Tests;

/// <summary>
/// The estimates of a job do not depend on how it is cut: one task in a one-silo cluster, 7 shards x per-layer
/// groups over three silos, and the estimator core called directly give the same moments.
/// </summary>
[Collection("clusters")]
public sealed class LayoutIndependenceTests(OneSiloCluster one, ThreeSiloCluster three) : IClassFixture<OneSiloCluster>, IClassFixture<ThreeSiloCluster>
{
    [Fact]
    public async Task OneTaskOnOneSiloEqualsSevenShardsPerLayerOnThreeSilosEqualsDirect()
    {
        Assert.Single(one.Cluster.Silos);
        Assert.Equal(3, three.Cluster.Silos.Count);
        var single = TestData.Spec(inputs: 600, shards: 1, grouping: "all");
        var split = single with { Shards = 7, Grouping = Grouping.PerLayer };

        var a = await TestData.RunToEnd(one.Cluster.GrainFactory, "layout-one-" + Guid.NewGuid().ToString("N")[..8], single, TestTimeouts.Job);
        var b = await TestData.RunToEnd(three.Cluster.GrainFactory, "layout-three-" + Guid.NewGuid().ToString("N")[..8], split, TestTimeouts.Job);
        Assert.True(a.State == JobState.Completed, a.Error);
        Assert.True(b.State == JobState.Completed, b.Error);
        Assert.Equal(1, a.TasksTotal);
        Assert.Equal(21, b.TasksTotal);
        Assert.Equal(3, b.Groups.Count);

        var ma = TestData.Flatten(await Submitter.Fetch(one.Cluster.GrainFactory, a));
        var groupsB = await Submitter.Fetch(three.Cluster.GrainFactory, b);
        Assert.All(groupsB, g => Assert.Equal(7, g.MergedTasks.Count));
        var mb = TestData.Flatten(groupsB);
        var direct = TestData.Direct(single);

        Assert.Equal(96, direct.Count); // 6 tensors x (6 quantities + the per-input means of the 2 draws of i1 and i2 + the third and fourth powers of the 4 estimates)
        Assert.True(direct.Count(s => s.Value.Mean.Any(v => v != 0)) >= 46, "only the last layer's V2 may be zero");
        TestData.AssertSame(direct, ma, 1e-10, "1 shard x 1 group vs direct");
        TestData.AssertSame(direct, mb, 1e-10, "7 shards x per-layer groups on 3 silos vs direct");
        foreach (var (key, m) in mb)
            Assert.Equal(key.EndsWith(".i1", StringComparison.Ordinal) || key.EndsWith(".i2", StringComparison.Ordinal) ? 1200 : 600, m.Count);
    }
}
