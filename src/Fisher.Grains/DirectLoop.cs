using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;
using static TorchSharp.torch;

namespace Fisher.Grains;

/// <summary>
/// A job's computation with the estimator core alone, on the calling thread: one model replica, one dataset reader and
/// one accumulator over a row range, no grains, tasks or slices. The reference the grains are checked against (tests)
/// and timed against (bench/Fisher.Bench.Distributed); it shares no code with <see cref="ShardComputation"/> beyond the
/// planner's resolution of the spec.
/// </summary>
internal static class DirectLoop
{
    /// <summary>The moments of rows [<paramref name="firstRow"/>, <paramref name="firstRow"/> + <paramref name="rows"/>) in batches of <paramref name="batchSize"/>.</summary>
    public static FisherMoments Run(JobSpec spec, long firstRow, long rows, int batchSize, bool doublePrecisionMoments = false)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var architecture = ModelSource.ReadArchitecture(spec.ModelPath, spec.ArchitecturePath, spec.Likelihood);
        var (_, dtype) = JobPlanner.Resolve(spec);
        using var network = LoadedNetwork.Load(architecture, spec.ModelPath, dtype);
        using var data = Dataset.Open(spec.InputsPath, spec.LabelsPath);
        var estimator = network.CreateEstimator(JobPlanner.CreateLikelihood(spec, architecture, network.OutputWidth),
            JobPlanner.EstimatorOptionsOf(spec, parameters: null, doublePrecisionMoments));
        using var accumulator = new FisherAccumulator();
        var x = new double[batchSize * data.Features];
        var y = new double[batchSize];
        for (long first = firstRow; first < firstRow + rows; first += batchSize)
        {
            int count = (int)Math.Min(batchSize, firstRow + rows - first);
            using var scope = NewDisposeScope();
            data.ReadInputs(first, count, x.AsSpan(0, count * data.Features));
            data.ReadLabels(first, count, y.AsSpan(0, count));
            var inputs = architecture.Input.Apply(tensor(x, [batchSize, data.Features]).narrow(0, 0, count));
            var labels = tensor(y, [batchSize]).narrow(0, 0, count);
            estimator.Accumulate(accumulator, inputs.to(dtype), labels, first);
        }
        return accumulator.ToMoments();
    }
}
