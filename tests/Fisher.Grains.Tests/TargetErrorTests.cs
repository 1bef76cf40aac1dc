using Fisher.Contracts;
using Fisher.Estimators;
using Fisher.Results;

namespace Fisher.Grains.Tests;

/// <summary>--target-rel-error: the job stops once every group reaches the target, near the §7.1 prediction of a pilot run.</summary>
[Collection("clusters")]
public sealed class TargetErrorTests(ThreeSiloCluster fixture) : IClassFixture<ThreeSiloCluster>
{
    private const double Epsilon = 0.5, Delta = 0.2;

    [Fact]
    public async Task StopsEarlyAtTheTargetWithinAFactorTwoOfThePilotPrediction()
    {
        var grains = fixture.Cluster.GrainFactory;
        var pilotSpec = TestData.Spec(inputs: 400, shards: 4, grouping: "layer", quantities: "i1,exact", draws: 1, precision: "float32");
        var pilot = await TestData.RunToEnd(grains, "pilot-" + Guid.NewGuid().ToString("N")[..8], pilotSpec, TestTimeouts.Job);
        Assert.True(pilot.State == JobState.Completed, pilot.Error);
        var predicted = (await Submitter.Fetch(grains, pilot))
            .SelectMany(g => new[] { "i1", "exact" }.Select(q => PrecisionOf(g, q)))
            .Max(p => p.InputsNeeded(Epsilon, Delta));
        Assert.InRange(predicted, 200, 1000); // the test is only meaningful if the target falls inside the data

        var spec = pilotSpec with { Inputs = 0, Shards = 80, TargetRelativeError = Epsilon, Delta = Delta };
        var status = await TestData.RunToEnd(grains, "target-" + Guid.NewGuid().ToString("N")[..8], spec, TestTimeouts.Job);
        Assert.True(status.State == JobState.Completed, status.Error);
        Assert.True(status.StoppedEarly, $"did not stop early: {status.InputsMerged} of {status.Inputs}");
        Assert.InRange(status.InputsMerged, predicted / 2, predicted * 2);

        // Every group's merged moments reach the target: the Chebyshev radius is at most ε.
        var groups = await Submitter.Fetch(grains, status);
        Assert.Equal(3, groups.Count);
        foreach (var group in groups)
        {
            Assert.Equal(status.InputsMerged, group.Inputs);
            foreach (var q in new[] { "i1", "exact" })
            {
                var p = PrecisionOf(group, q);
                Assert.Equal(status.InputsMerged, p.Inputs);
                double radius = p.RelativeStandardError / Math.Sqrt(Delta);
                Assert.True(radius <= Epsilon, $"{group.Group} {q}: relative error bound {radius:F3} > {Epsilon}");
            }
        }
    }

    /// <summary>The group's precision of one estimate by the rule the job's stopping check uses (QuantityCatalog.PrecisionOf).</summary>
    private static Precision PrecisionOf(GroupMoments group, string quantity) =>
        QuantityCatalog.Find(quantity)!.PrecisionOf(group.Parameters, group.Stream)
        ?? throw new InvalidOperationException($"{group.Group}: no precision of {quantity}");
}
