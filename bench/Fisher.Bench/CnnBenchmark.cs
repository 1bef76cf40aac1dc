using System.Diagnostics;
using Fisher.Estimators;
using static TorchSharp.torch;

namespace Fisher.Bench;

/// <summary>
/// The CNN rows (issue 14, acceptance 3): LeNet-5 and ResNet-8 on 28×28 inputs through the layer graph
/// (<see cref="Fisher.Estimators.Graph.LayerGraph"/>), against a plain TorchSharp forward+backward of the same modules
/// with the same weights. A case whose batch would take longer than <see cref="BenchOptions.MaxBatchSeconds"/> (Î2 on
/// a convolutional net) is timed on fewer inputs, and its time per input is compared with the baseline's.
/// </summary>
internal static class CnnBenchmark
{
    private const string BaselineName = "forward+backward (autograd)";

    private static readonly (string Name, FisherQuantity Quantities)[] Cases =
    [
        ("Î1 (K=1)", FisherQuantity.SquaredScore),
        ("empirical Fisher", FisherQuantity.Empirical),
        ("exact diagonal", FisherQuantity.Exact),
        ("Î2 (K=1)", FisherQuantity.NegativeHessian),
        ("all quantities", FisherQuantity.All),
    ];

    public static void Run(BenchOptions options)
    {
        foreach (var (name, make) in new (string, Func<CnnNetwork>)[] { ("lenet-5 tanh", CnnNetwork.LeNet), ("resnet-8 relu", CnnNetwork.ResNet8) })
        {
            if (!Cases.Any(c => options.Selects(name, c.Name)) && !options.Selects(name, BaselineName))
                continue;
            manual_seed(1);
            using var module = make();
            using var graph = module.Graph(ScalarType.Float32);
            var generator = new Generator(2);
            using var x = rand([options.Batch, 1, 28, 28], ScalarType.Float32, generator: generator);
            using var y = randint(0, 10, [options.Batch], ScalarType.Int64, generator: generator);
            var parameters = module.parameters().ToArray();
            void Baseline(Tensor inputs, Tensor labels) => ForwardBackward(module, parameters, inputs, labels);

            var (baseline, baselineMemory) = Timing.Measure(options, () => Baseline(x, y));
            if (options.Selects(name, BaselineName))
                Timing.Row(name, BaselineName, options.Batch, baseline, baseline, 1.0, baselineMemory);
            var likelihood = new CategoricalLikelihood(10);
            foreach (var (caseName, quantities) in Cases.Where(c => options.Selects(name, c.Name)))
            {
                var estimator = new FisherEstimator(graph, likelihood, new EstimatorOptions { Quantities = quantities, DrawsPerInput = 1, Seed = 3 });
                using var accumulator = new FisherAccumulator();
                long index = 0;
                void Case(Tensor inputs, Tensor labels) => estimator.Accumulate(accumulator, inputs, labels, (index++) * options.Batch);
                MeasureCase(options, name, caseName, x, y, Case, Baseline);
            }
        }
    }

    /// <summary>
    /// Times one case against the baseline on the full batch, or, when one input's time (probed on a few inputs) says a
    /// full batch would exceed the budget, on as many inputs as fit in it, with the time per input compared with the
    /// baseline's on the full batch.
    /// </summary>
    private static void MeasureCase(BenchOptions options, string network, string caseName, Tensor x, Tensor y, Action<Tensor, Tensor> action, Action<Tensor, Tensor> baseline)
    {
        int probe = Math.Min(8, options.Batch);
        action(x.narrow(0, 0, probe), y.narrow(0, 0, probe)); // warm-up of this case's code paths
        var sw = Stopwatch.StartNew();
        action(x.narrow(0, 0, probe), y.narrow(0, 0, probe));
        double perInput = sw.Elapsed.TotalSeconds / probe;
        if (perInput * options.Batch <= options.MaxBatchSeconds / 10)
        {
            var (seconds, fullReference, ratio, memory) = Timing.MeasureAgainst(options, () => action(x, y), () => baseline(x, y));
            Timing.Row(network, caseName, options.Batch, seconds, fullReference, ratio, memory);
            return;
        }
        int inputs = (int)Math.Clamp(Math.Floor(options.MaxBatchSeconds / 2 / perInput), 1, options.Batch);
        using var xs = x.narrow(0, 0, inputs);
        using var ys = y.narrow(0, 0, inputs);
        GC.Collect();
        PeakMemory.Reset();
        double reference = Timing.Measure(options, () => baseline(x, y)).Seconds; // the baseline next to the case: the machine's speed drifts
        var times = new List<double>();
        for (int i = 0; i < 2; i++)
        {
            sw.Restart();
            action(xs, ys);
            times.Add(sw.Elapsed.TotalSeconds);
        }
        double memoryMb = PeakMemory.PeakMegabytes();
        reference = (reference + Timing.Measure(options, () => baseline(x, y)).Seconds) / 2;
        double perBatch = times.Min() / inputs * options.Batch;
        Timing.Row(network, $"{caseName} (timed on {inputs} inputs: {times.Min() / inputs:0.000} s per input)", options.Batch, perBatch, reference, perBatch / reference, memoryMb);
    }

    /// <summary>What a user would write: the network's modules, cross-entropy on the batch, backward().</summary>
    private static void ForwardBackward(CnnNetwork module, TorchSharp.Modules.Parameter[] parameters, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        foreach (var p in parameters)
            p.grad?.zero_();
        var loss = nn.functional.cross_entropy(module.forward(x), y);
        loss.backward();
    }
}
