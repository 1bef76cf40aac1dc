using System.Diagnostics;
using Fisher.Estimators;
using TorchSharp;
using static TorchSharp.torch;

namespace Fisher.Bench;

/// <summary>
/// For each MLP: a plain TorchSharp forward+backward (autograd, cross-entropy) as the baseline, then the
/// estimator with Î1 alone (K = 1), Î2 alone, the exact diagonal alone and all quantities together, each merged
/// into a running FisherAccumulator as a worker does (moment reduction and Chan merge included). Reports samples/s, the ratio of time per sample to the baseline (timed in alternating rounds with it), and peak RSS.
/// </summary>
internal static class EstimatorBenchmark
{
    private static readonly (string Name, FisherQuantity Quantities, bool DoubleMoments)[] Cases =
    [
        ("Î1 (K=1)", FisherQuantity.SquaredScore, false),
        ("Î2", FisherQuantity.NegativeHessian, false),
        ("exact diagonal", FisherQuantity.Exact, false),
        ("Î1, Î2, exact, empirical", FisherQuantity.SquaredScore | FisherQuantity.NegativeHessian | FisherQuantity.Exact | FisherQuantity.Empirical, false),
        ("all quantities", FisherQuantity.All, false),
        ("all quantities + power sums", FisherQuantity.All | FisherQuantity.PowerSums, false),
        ("Î1 (K=1), float64 Gram", FisherQuantity.SquaredScore, true),
        ("Î2, float64 Gram", FisherQuantity.NegativeHessian, true),
        ("exact diagonal, float64 Gram", FisherQuantity.Exact, true),
        ("all quantities, float64 Gram", FisherQuantity.All, true),
    ];

    public static int Run(BenchOptions options)
    {
        TorchRuntime.Configure(options.Threads);
        Console.WriteLine($"# Fisher.Estimators benchmark: float32 compute (Gram products float32 per batch unless marked float64 Gram), float64 moments across batches, batch {options.Batch}, {options.Threads} torch threads, {options.SecondsPerCase:0.#} s per case");
        Console.WriteLine();
        Console.WriteLine("| network | case | samples/s | ms per batch | fwd+bwd ms per batch (its rounds) | time ratio to fwd+bwd | peak RSS (MB) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var widths in new[] { new[] { 784, 128, 10 }, new[] { 784, 256, 256, 10 } })
        {
            foreach (var activation in new[] { Activation.Relu, Activation.Tanh })
            {
                string name = $"{string.Join("-", widths)} {activation.Name}";
                if (!Cases.Any(c => options.Selects(name, c.Name)) && !options.Selects(name, "forward+backward (autograd)"))
                    continue;
                using var network = FeedForwardNetwork.CreateRandom(widths, activation, ScalarType.Float32, seed: 1);
                var generator = new Generator(2);
                using var x = rand(new long[] { options.Batch, widths[0] }, ScalarType.Float32, generator: generator);
                using var y = randint(0, 10, new long[] { options.Batch }, ScalarType.Int64, generator: generator);

                var (baseline, baselineMemory) = Timing.Measure(options, () => ForwardBackward(network, x, y));
                if (options.Selects(name, "forward+backward (autograd)"))
                    Timing.Row(name, "forward+backward (autograd)", options.Batch, baseline, baseline, 1.0, baselineMemory);
                var likelihood = new CategoricalLikelihood(10);
                foreach (var (caseName, quantities, doubleMoments) in Cases)
                {
                    if (!options.Selects(name, caseName))
                        continue;
                    var estimator = new FisherEstimator(network, likelihood, new EstimatorOptions { Quantities = quantities, DrawsPerInput = 1, Seed = 3, DoublePrecisionMoments = doubleMoments });
                    long index = 0;
                    using var accumulator = new FisherAccumulator(); // what a worker does: merge batch after batch
                    var (seconds, reference, ratio, memory) = Timing.MeasureAgainst(options, () => estimator.Accumulate(accumulator, x, y, (index++) * options.Batch), () => ForwardBackward(network, x, y));
                    Timing.Row(name, caseName, options.Batch, seconds, reference, ratio, memory);

                }
            }
        }
        CnnBenchmark.Run(options);
        return 0;
    }

    private static readonly Dictionary<FeedForwardNetwork, (nn.Module<Tensor, Tensor> Model, TorchSharp.Modules.Parameter[] Parameters)> Models = [];

    /// <summary>What a user would write: an nn.Sequential, cross-entropy on the batch, backward().</summary>
    private static void ForwardBackward(FeedForwardNetwork network, Tensor x, Tensor y)
    {
        if (!Models.TryGetValue(network, out var entry))
        {
            var modules = new List<nn.Module<Tensor, Tensor>>();
            for (int l = 0; l < network.Layers.Count; l++)
            {
                var layer = network.Layers[l];
                var linear = nn.Linear(layer.InputWidth, layer.OutputWidth);
                using (no_grad())
                {
                    linear.weight!.copy_(layer.Weight);
                    linear.bias!.copy_(layer.Bias);
                }
                modules.Add(linear);
                if (l < network.Activations.Count)
                    modules.Add(network.Activations[l].Kind == ActivationKind.Relu ? nn.ReLU() : nn.Tanh());
            }
            var model = nn.Sequential(modules.ToArray());
            entry = (model, model.parameters().ToArray());
            Models[network] = entry;
        }
        using var scope = NewDisposeScope();
        foreach (var p in entry.Parameters)
            p.grad?.zero_();
        var loss = nn.functional.cross_entropy(entry.Model.forward(x), y);
        loss.backward();
    }
}
