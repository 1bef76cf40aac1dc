using System.Diagnostics;
using Fisher.Estimators;
using TorchSharp;
using static TorchSharp.torch;

namespace Fisher.Bench;

/// <summary>
/// For each MLP: a plain TorchSharp forward+backward (autograd, cross-entropy) as the baseline, then the
/// estimator with Î1 alone (K = 1), Î2 alone, the exact diagonal alone and all quantities together, each merged
/// into a running FisherAccumulator as a worker does (moment reduction and Chan merge included). Reports samples/s, the ratio of time per sample to the baseline, and peak RSS.
/// </summary>
internal static class EstimatorBenchmark
{
    private static readonly (string Name, FisherQuantity Quantities, bool DoubleMoments)[] Cases =
    [
        ("Î1 (K=1)", FisherQuantity.SquaredScore, true),
        ("Î2", FisherQuantity.NegativeHessian, true),
        ("exact diagonal", FisherQuantity.Exact, true),
        ("all quantities", FisherQuantity.All, true),
        ("Î1 (K=1), float32 Gram", FisherQuantity.SquaredScore, false),
        ("Î2, float32 Gram", FisherQuantity.NegativeHessian, false),
        ("exact diagonal, float32 Gram", FisherQuantity.Exact, false),
        ("all quantities, float32 Gram", FisherQuantity.All, false),
    ];

    public static int Run(BenchOptions options)
    {
        TorchRuntime.Configure(options.Threads);
        Console.WriteLine($"# Fisher.Estimators benchmark: float32 compute, float64 moments, batch {options.Batch}, {options.Threads} torch threads, {options.SecondsPerCase:0.#} s per case");
        Console.WriteLine();
        Console.WriteLine("| network | case | samples/s | time ratio to fwd+bwd | peak RSS (MB) |");
        Console.WriteLine("|---|---|---:|---:|---:|");
        foreach (var widths in new[] { new[] { 784, 128, 10 }, new[] { 784, 256, 256, 10 } })
        {
            foreach (var activation in new[] { Activation.Relu, Activation.Tanh })
            {
                string name = $"{string.Join("-", widths)} {activation.Name}";
                if (!Cases.Any(c => Selected(options, name, c.Name)) && !Selected(options, name, "forward+backward (autograd)"))
                    continue;
                using var network = FeedForwardNetwork.CreateRandom(widths, activation, ScalarType.Float32, seed: 1);
                var generator = new Generator(2);
                using var x = rand(new long[] { options.Batch, widths[0] }, ScalarType.Float32, generator: generator);
                using var y = randint(0, 10, new long[] { options.Batch }, ScalarType.Int64, generator: generator);

                var (baseline, baselineMemory) = Measure(options, () => ForwardBackward(network, x, y));
                if (Selected(options, name, "forward+backward (autograd)"))
                    Row(name, "forward+backward (autograd)", options.Batch / baseline, 1.0, baselineMemory);
                var likelihood = new CategoricalLikelihood(10);
                foreach (var (caseName, quantities, doubleMoments) in Cases)
                {
                    if (!Selected(options, name, caseName))
                        continue;
                    var estimator = new FisherEstimator(network, likelihood, new EstimatorOptions { Quantities = quantities, DrawsPerInput = 1, Seed = 3, DoublePrecisionMoments = doubleMoments });
                    long index = 0;
                    using var accumulator = new FisherAccumulator(); // what a worker does: merge batch after batch
                    var (seconds, memory) = Measure(options, () => estimator.Accumulate(accumulator, x, y, (index++) * options.Batch));
                    Row(name, caseName, options.Batch / seconds, seconds / baseline, memory);
                }
            }
        }
        return 0;
    }

    private static bool Selected(BenchOptions options, string network, string caseName) =>
        options.Only is null || $"{network} | {caseName} |".Contains(options.Only, StringComparison.OrdinalIgnoreCase);

    private static void Row(string network, string name, double samplesPerSecond, double ratio, double memory) =>
        Console.WriteLine($"| {network} | {name} | {samplesPerSecond,10:N0} | {ratio:0.00} | {memory:N0} |");

    /// <summary>Seconds per call (median of timed rounds) and peak RSS while running.</summary>
    private static (double Seconds, double PeakMegabytes) Measure(BenchOptions options, Action action)
    {
        for (int i = 0; i < 3; i++)
            action();
        GC.Collect();
        PeakMemory.Reset();
        var rounds = new List<double>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < options.SecondsPerCase || rounds.Count < 5)
        {
            var sw = Stopwatch.StartNew();
            action();
            rounds.Add(sw.Elapsed.TotalSeconds);
        }
        rounds.Sort();
        return (rounds[rounds.Count / 2], PeakMemory.PeakMegabytes());
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
