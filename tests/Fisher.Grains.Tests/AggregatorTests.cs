using Fisher.Contracts;
using Fisher.Estimators;

namespace Fisher.Grains.Tests;

/// <summary>Aggregators merge each task id once, whatever is delivered twice, and ask for a resend of broken partials.</summary>
[Collection("clusters")]
public sealed class AggregatorTests(ThreeSiloCluster fixture) : IClassFixture<ThreeSiloCluster>
{
    private static PartialChunk[] Partial(string task, int attempt, long inputs, double[] mean, double[] m2, int perChunk)
    {
        int count = (mean.Length + perChunk - 1) / perChunk;
        return Enumerable.Range(0, count).Select(i =>
        {
            int offset = i * perChunk, length = Math.Min(perChunk, mean.Length - offset);
            var slice = new MomentSlice("0.weight.i1", inputs, offset, mean.Length, mean[offset..(offset + length)], m2[offset..(offset + length)]);
            return new PartialChunk(task, attempt, i, count, inputs, [slice], TestLeases.Key);
        }).ToArray();
    }

    [Fact]
    public async Task ThePartialOfATaskIsMergedOnceHoweverOftenItArrives()
    {
        var job = $"{TestLeases.Prefix}dup-{Guid.NewGuid():N}";
        TestLeases.Grant(job, "s0g0", 10, ("0.weight", 5));
        TestLeases.Grant(job, "s1g0", 30, ("0.weight", 5));
        var aggregator = fixture.Cluster.GrainFactory.GetGrain<IMomentsAggregatorGrain>($"{job}/0");
        double[] meanA = [1, 2, 3, 4, 5], m2A = [0.5, 1, 1.5, 2, 2.5];
        double[] meanB = [3, 2, 1, 0, -1], m2B = [1, 1, 1, 1, 1];
        var a = Partial("s0g0", 1, 10, meanA, m2A, perChunk: 2);
        var b = Partial("s1g0", 1, 30, meanB, m2B, perChunk: 2);
        Assert.Equal(3, a.Length);

        Assert.Equal([MergeOutcome.Pending, MergeOutcome.Pending, MergeOutcome.Merged], await Send(aggregator, a));
        // The same partial again (a retried call), and from a second attempt of the same task: ignored.
        Assert.Equal(MergeOutcome.Duplicate, (await Send(aggregator, a))[0]);
        Assert.Equal(MergeOutcome.Duplicate, (await Send(aggregator, Partial("s0g0", 2, 10, meanA, m2A, 2)))[0]);
        // A partial whose first chunks were lost (the aggregator restarted) is refused, then accepted when resent.
        Assert.Equal(MergeOutcome.Incomplete, await aggregator.AddChunkAsync(b[1]));
        Assert.Equal([MergeOutcome.Pending, MergeOutcome.Pending, MergeOutcome.Merged], await Send(aggregator, b));

        var info = await aggregator.GetInfoAsync(TestLeases.Token);
        Assert.Equal(["s0g0", "s1g0"], info.MergedTasks);
        Assert.Equal(40, info.Inputs);
        var merged = await aggregator.ReadAsync(TestLeases.Token, "0.weight.i1", 0, 5);
        Assert.Equal(40, merged.Count);
        var expected = new Moments(10, (double[])meanA.Clone(), (double[])m2A.Clone());
        expected.Merge(new Moments(30, meanB, m2B));
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(expected.Mean[i], merged.Mean[i], 1e-12);
            Assert.Equal(expected.M2[i], merged.M2[i], 1e-12);
        }
    }

    [Fact]
    public async Task A_partial_the_coordinator_did_not_issue_or_that_does_not_fit_its_lease_is_rejected()
    {
        var job = $"{TestLeases.Prefix}forged-{Guid.NewGuid():N}";
        TestLeases.Grant(job, "s0g0", 10, ("0.weight", 3));
        var aggregator = fixture.Cluster.GrainFactory.GetGrain<IMomentsAggregatorGrain>($"{job}/0");
        double[] mean = [1, 2, 3], m2 = [0.5, 0.5, 0.5];

        Assert.Equal(MergeOutcome.Rejected, (await Send(aggregator, Partial("s7g0", 1, 10, mean, m2, 3)))[0]); // not in the plan
        Assert.Equal(MergeOutcome.Rejected, (await Send(aggregator, Partial("s0g0", 0, 10, mean, m2, 3)))[0]); // attempt never issued
        Assert.Equal(MergeOutcome.Rejected, (await Send(aggregator, Partial("s0g0", 1, 11, mean, m2, 3)))[0]); // other rows than the task's
        var otherParameter = new PartialChunk("s0g0", 1, 0, 1, 10, [new MomentSlice("9.weight.i1", 10, 0, 3, mean, m2)], TestLeases.Key);
        Assert.Equal(MergeOutcome.Rejected, await aggregator.AddChunkAsync(otherParameter));
        var unknownQuantity = new PartialChunk("s0g0", 1, 0, 1, 10, [new MomentSlice("0.weight.secret", 10, 0, 3, mean, m2)], TestLeases.Key);
        Assert.Equal(MergeOutcome.Rejected, await aggregator.AddChunkAsync(unknownQuantity));
        // A 1 KB message announcing a stream of 10^8 doubles: refused before anything is allocated (the lease says the
        // parameter has 3 elements), and one whose slice lies about where it lies in the stream.
        var huge = new PartialChunk("s0g0", 1, 0, 1, 10, [new MomentSlice("0.weight.i1", 10, 0, 100_000_000, mean, m2)], TestLeases.Key);
        Assert.Equal(MergeOutcome.Rejected, await aggregator.AddChunkAsync(huge));
        var lying = new PartialChunk("s0g0", 1, 0, 1, 10, [new MomentSlice("0.weight.i1", 10, int.MaxValue - 2, 3, mean, m2)], TestLeases.Key);
        Assert.Equal(MergeOutcome.Rejected, await aggregator.AddChunkAsync(lying));

        var info = await aggregator.GetInfoAsync(TestLeases.Token);
        Assert.Empty(info.MergedTasks);
        Assert.Empty(info.Streams);
        Assert.Equal([MergeOutcome.Merged], await Send(aggregator, Partial("s0g0", 1, 10, mean, m2, 3))); // the issued one
    }

    private static async Task<MergeOutcome[]> Send(IMomentsAggregatorGrain aggregator, PartialChunk[] chunks)
    {
        var outcomes = new List<MergeOutcome>();
        foreach (var chunk in chunks)
        {
            var outcome = await aggregator.AddChunkAsync(chunk);
            outcomes.Add(outcome);
            if (outcome is MergeOutcome.Duplicate or MergeOutcome.Incomplete or MergeOutcome.Rejected)
                break;
        }
        return outcomes.ToArray();
    }
}
