using Xunit;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests;

/// <summary>Acceptance 4: estimating many batches (and accumulating them) leaves the live tensor count where it was.</summary>
[Collection(nameof(TensorCountCollection))]
public sealed class ResourceTests
{
    [Fact]
    public void EstimatingManyBatchesLeaksNoTensor()
    {
        TorchRuntime.Ensure();
        using var network = FeedForwardNetwork.CreateRandom([20, 16, 16, 16, 5], Activation.Sigmoid, ScalarType.Float32, seed: 1);
        var likelihood = new CategoricalLikelihood(5);
        var estimator = new FisherEstimator(network, likelihood, new EstimatorOptions { Quantities = FisherQuantity.All, DrawsPerInput = 2 });
        using var x = rand(64, 20);
        using var y = randint(0, 5, new long[] { 64 });
        using var badY = full(new long[] { 64 }, 7L);
        estimator.Estimate(x, y, 0); // warm-up: lazily created tensors, if any, exist before the count

        // The count is global: let finalisers of earlier tests' tensors run first, then keep the GC (and so any
        // finaliser that could hide a leak of ours) out of the measured loop.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        bool noGc = GC.TryStartNoGCRegion(200_000_000);
        long before = TorchSharp.torch.Tensor.TotalCount;
        using (var outer = NewDisposeScope())
        {
            for (int i = 0; i < 100; i++)
                estimator.Estimate(x, y, i * 64L);
            using (var accumulator = new FisherAccumulator())
            {
                for (int i = 0; i < 100; i++)
                    estimator.Accumulate(accumulator, x, y, i * 64L);
            }
            for (int i = 0; i < 10; i++)
                Assert.Throws<InvalidBatchException>(() => estimator.Estimate(x, badY, 0));
            Assert.Equal(0, outer.DisposablesCount);
        }
        long after = TorchSharp.torch.Tensor.TotalCount;
        if (noGc && System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion)
            GC.EndNoGCRegion();
        Assert.Equal(before, after);
    }
}

/// <summary>Tests that read the global tensor count run alone.</summary>
[CollectionDefinition(nameof(TensorCountCollection), DisableParallelization = true)]
public sealed class TensorCountCollection;
