using Xunit;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests;

/// <summary>The tensor-side accumulator equals the managed Chan merge, and a refused batch changes nothing.</summary>
public sealed class FisherAccumulatorTests
{
    [Fact]
    public void AccumulatingBatchesEqualsMergingBatchMoments()
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        using var network = FeedForwardNetwork.CreateRandom([6, 7, 5, 4], Activation.Sigmoid, ScalarType.Float64, seed: 6);
        var likelihood = new CategoricalLikelihood(4);
        var x = randn(new long[] { 200, 6 }, ScalarType.Float64, generator: new Generator(12));
        var y = randint(0, 4, new long[] { 200 }, generator: new Generator(13));
        var estimator = new FisherEstimator(network, likelihood, new EstimatorOptions { Quantities = FisherQuantity.All, DrawsPerInput = 2, Seed = 1 });

        var merged = new FisherMoments();
        // Fold every two batches, so both the raw chunk sums and Chan folds into existing state are exercised.
        using var accumulator = new FisherAccumulator { BatchesPerFold = 2 };
        for (int start = 0; start < 200; start += 37)
        {
            int end = Math.Min(200, start + 37);
            merged.Merge(estimator.Estimate(x[TensorIndex.Slice(start, end)], y[TensorIndex.Slice(start, end)], start));
            estimator.Accumulate(accumulator, x[TensorIndex.Slice(start, end)], y[TensorIndex.Slice(start, end)], start);
        }
        var fromTensors = accumulator.ToMoments();
        Assert.Equal(200, fromTensors.Inputs);
        Assert.Equal(merged.Streams.Count, fromTensors.Streams.Count);
        foreach (var (key, m) in merged.Streams)
        {
            var t = fromTensors.Streams[key];
            Assert.Equal(m.Count, t.Count);
            Assertions.Close(t.Mean, m.Mean, 1e-12, $"{key} mean");
            Assertions.Close(t.M2, m.M2, 1e-10, $"{key} M2");
        }

        // A refused batch leaves the accumulator as it was.
        var bad = y[TensorIndex.Slice(0, 37)].clone();
        bad[3] = tensor(9L);
        Assert.Throws<InvalidBatchException>(() => estimator.Accumulate(accumulator, x[TensorIndex.Slice(0, 37)], bad, 0));
        var after = accumulator.ToMoments();
        Assert.Equal(200, after.Inputs);
        foreach (var (key, m) in fromTensors.Streams)
        {
            Assert.Equal(m.Count, after.Streams[key].Count);
            Assert.Equal(m.Mean, after.Streams[key].Mean);
            Assert.Equal(m.M2, after.Streams[key].M2);
        }
    }

    [Fact]
    public void AMergeThatFailsPartWayMakesTheAccumulatorRefuseUntilCleared()
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var key = new MomentKey("layer0.weight", FisherQuantity.Exact);
        StreamCount Sums() => new(key, 4, 6);
        GramBlock Block(long values) => new("layer0.weight|2|3|test", ones(4, values, ScalarType.Float64), ones(4, 2, ScalarType.Float64), 3, [[new SumTarget(key, false, 1)]], false);
        using var accumulator = new FisherAccumulator();
        accumulator.Merge(4, [Sums()], [Block(3)]);
        Assert.Equal(4, accumulator.ToMoments().Streams[key].Count);

        // The count goes in, then the product fails (its factor no longer fits the pending product): a native error
        // between the two halves of a merge.
        Assert.ThrowsAny<Exception>(() => accumulator.Merge(4, [Sums()], [Block(5)]));
        var refused = Assert.Throws<InvalidOperationException>(() => accumulator.Merge(4, [Sums()], [Block(3)]));
        Assert.Contains("failed part-way", refused.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => accumulator.ToMoments());

        accumulator.Clear();
        accumulator.Merge(4, [Sums()], [Block(3)]);
        var moments = accumulator.ToMoments().Streams[key];
        Assert.Equal(4, moments.Count);
        Assert.All(moments.Mean, m => Assert.Equal(1.0, m)); // S1 = Σ over the 4 inputs of 1·1, over a count of 4
    }
}
