using Fisher.Estimators;
using Fisher.Results;
using static TorchSharp.torch;

namespace Fisher.Calibration;

/// <summary>
/// One network of the suite with its input distribution: a random MLP 4-8-6-C of a family and activation, a pool of
/// <see cref="CalibrationCase.PoolSize"/> Gaussian inputs with labels from a second random network of the same shape,
/// and the truths of the distribution (the exact diagonal and the empirical Fisher of the whole pool). Its tensors
/// belong to the caller's dispose scope.
/// </summary>
internal sealed class CalibrationProblem(Likelihood likelihood, FeedForwardNetwork network, FeedForwardNetwork teacher, Tensor pool, Tensor observed) : IDisposable
{
    private const int Batch = 500;

    public Likelihood Likelihood { get; } = likelihood;

    public FeedForwardNetwork Network { get; } = network;

    public IReadOnlyList<string> Parameters { get; } = network.Layout.Parameters.Select(p => p.Name).ToArray();

    /// <summary>The exact diagonal and the empirical Fisher of the whole pool.</summary>
    public FisherMoments Truth { get; } = Estimate(network, likelihood, FisherQuantity.Exact | FisherQuantity.Empirical, 1, 0, pool, observed);

    public static CalibrationProblem Create(LikelihoodFamily family, string activation, int seed)
    {
        int outputs = CalibrationCase.OutputsOf(family);
        int[] widths = [4, 8, 6, outputs];
        var likelihood = Likelihood.Create(family, outputs);
        var network = FeedForwardNetwork.CreateRandom(widths, Activation.Parse(activation), ScalarType.Float64, seed: 1000 + seed);
        var teacher = FeedForwardNetwork.CreateRandom(widths, Activation.Parse(activation), ScalarType.Float64, seed: 2000 + seed);
        var generator = new Generator((ulong)(3000 + seed));
        var pool = randn([CalibrationCase.PoolSize, widths[0]], ScalarType.Float64, generator: generator);
        var observed = likelihood.SampleLabels(teacher.Forward(pool), rand([CalibrationCase.PoolSize, 1, likelihood.UniformsPerDraw], ScalarType.Float64, generator: generator)).squeeze(1);
        return new CalibrationProblem(likelihood, network, teacher, pool, observed);
    }

    /// <summary>The moments of a job over the pool's <paramref name="rows"/>, with K = <paramref name="draws"/> and label seed <paramref name="seed"/>; <paramref name="first"/> is the global index of its first input.</summary>
    public FisherMoments Run(FisherQuantity quantities, int draws, ulong seed, Tensor rows, long first = 0) =>
        Estimate(Network, Likelihood, quantities, draws, seed, pool.index_select(0, rows), observed.index_select(0, rows), first);

    /// <summary>The stream named <c>&lt;parameter&gt;.&lt;key&gt;</c> of <paramref name="moments"/>, or null.</summary>
    public static Moments? Find(FisherMoments moments, string name)
    {
        var (parameter, key) = GroupMoments.SplitKey(name);
        var quantity = FisherQuantityNames.Singles.FirstOrDefault(q => q.Key() == key);
        return moments.Streams.GetValueOrDefault(new MomentKey(parameter, quantity));
    }

    public void Dispose()
    {
        Network.Dispose();
        teacher.Dispose();
    }

    private static FisherMoments Estimate(FeedForwardNetwork network, Likelihood likelihood, FisherQuantity quantities, int draws, ulong seed, Tensor inputs, Tensor labels, long first = 0)
    {
        if (draws < 2)
            quantities &= ~FisherQuantity.InputMeans;
        var estimator = new FisherEstimator(network, likelihood, new EstimatorOptions { Quantities = quantities, DrawsPerInput = draws, Seed = seed });
        using var accumulator = new FisherAccumulator();
        long n = inputs.shape[0];
        int batch = Math.Max(1, Math.Min(Batch, 64_000 / draws));
        for (long start = 0; start < n; start += batch)
        {
            long size = Math.Min(batch, n - start);
            estimator.Accumulate(accumulator, inputs.narrow(0, start, size), labels.narrow(0, start, size), first + start);
        }
        return accumulator.ToMoments();
    }
}
