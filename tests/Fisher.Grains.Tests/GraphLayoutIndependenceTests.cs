using Fisher.Contracts;
using Fisher.Estimators;

namespace Fisher.Grains.Tests;

/// <summary>
/// A residual CNN's estimates do not depend on how the job is cut (issue 14, acceptance 5): one task on one silo,
/// 3 shards x per-tensor groups on two silos, 2 shards x per-layer groups on two silos and the estimator core called
/// directly give the same moments, float64, to 1e-10 relative; per-layer groups carry the layers' module names.
/// </summary>
[Collection("clusters")]
public sealed class GraphLayoutIndependenceTests(OneSiloCluster one, TwoSiloCluster two) : IClassFixture<OneSiloCluster>, IClassFixture<TwoSiloCluster>
{
    [Fact]
    public async Task ResidualCnnOneTaskEqualsShardsTimesTensorGroupsAndLayerGroupsOnTwoSilosEqualsDirect()
    {
        Assert.Equal(2, two.Cluster.Silos.Count);
        using var cnn = new ResidualCnn(rows: 150);
        var single = cnn.Spec(inputs: 120, shards: 1, grouping: "all") with { FirstInput = 10 };
        var tensors = single with { Shards = 3, Grouping = Grouping.PerTensor };
        var layers = single with { Shards = 2, Grouping = Grouping.PerLayer };

        var a = await TestData.RunToEnd(one.Cluster.GrainFactory, "cnn-one-" + Guid.NewGuid().ToString("N")[..8], single, TestTimeouts.Job);
        var b = await TestData.RunToEnd(two.Cluster.GrainFactory, "cnn-tensors-" + Guid.NewGuid().ToString("N")[..8], tensors, TestTimeouts.Job);
        var c = await TestData.RunToEnd(two.Cluster.GrainFactory, "cnn-layers-" + Guid.NewGuid().ToString("N")[..8], layers, TestTimeouts.Job);
        Assert.True(a.State == JobState.Completed, a.Error);
        Assert.True(b.State == JobState.Completed, b.Error);
        Assert.True(c.State == JobState.Completed, c.Error);
        Assert.Equal(1, a.TasksTotal);
        Assert.Equal(12, b.Groups.Count); // weights and biases; BatchNorm's running statistics are not parameters
        Assert.Equal(36, b.TasksTotal);
        Assert.Equal(ResidualCnn.ParameterLayers, c.Groups);

        var direct = TestData.Direct(single);
        Assert.Equal(12 * 16, direct.Count); // 12 tensors x (6 quantities + the per-input means of the 2 draws of i1 and i2 + the third and fourth powers of the 4 estimates)
        Assert.Contains(direct, s => s.Key.StartsWith("conv1.weight.v2", StringComparison.Ordinal) && s.Value.Mean.Any(v => v != 0));
        TestData.AssertSame(direct, TestData.Flatten(await Submitter.Fetch(one.Cluster.GrainFactory, a)), 1e-10, "1 task vs direct");
        var groupsB = await Submitter.Fetch(two.Cluster.GrainFactory, b);
        Assert.All(groupsB, g => Assert.Equal(3, g.MergedTasks.Count));
        TestData.AssertSame(direct, TestData.Flatten(groupsB), 1e-10, "3 shards x tensor groups on 2 silos vs direct");
        TestData.AssertSame(direct, TestData.Flatten(await Submitter.Fetch(two.Cluster.GrainFactory, c)), 1e-10, "2 shards x layer groups on 2 silos vs direct");
    }
}
