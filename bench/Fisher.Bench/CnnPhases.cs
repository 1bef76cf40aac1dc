using System.Diagnostics;
using Fisher.Estimators;
using Fisher.Estimators.Graph;
using static TorchSharp.torch;

namespace Fisher.Bench;

/// <summary>
/// Where a graph estimator's batch goes (<c>--phases</c>): the steps of <see cref="FisherEstimator"/> on a
/// <see cref="LayerGraph"/> re-run one by one with the core's internal rules and timed with a stopwatch (libtorch on
/// the CPU is synchronous): forward trace, backward pull of the streams, per-sample parameter gradients (rows), the
/// label-free forms, and the Gram products merged into an accumulator. S = 1 stream is Î1's (or the empirical
/// Fisher's) sweep with the square as its form; S = C = 10 centred streams and the Fisher form are the exact diagonal's.
/// Micro-batches as the estimator sizes them (<see cref="GraphBackend.MicroBatch"/>) or as given.
/// </summary>
internal static class CnnPhases
{
    private static readonly string[] Phases = ["forward", "backward pull", "parameter rows", "forms", "Gram + merge"];

    public static void Run(BenchOptions options)
    {
        Console.WriteLine();
        Console.WriteLine($"# Phases of one batch of {options.Batch} (seconds; median of 3 batches after one warm-up)");
        Console.WriteLine();
        Console.WriteLine("| network | streams | micro-batch | " + string.Join(" | ", Phases) + " | total | fwd+bwd (autograd) |");
        Console.WriteLine("|---|---:|---:|" + string.Concat(Enumerable.Repeat("---:|", Phases.Length + 2)));
        foreach (var (name, make) in new (string, Func<CnnNetwork>)[] { ("lenet-5 tanh", CnnNetwork.LeNet), ("resnet-8 relu", CnnNetwork.ResNet8) })
        {
            if (!options.Selects(name, "phases"))
                continue;
            manual_seed(1);
            using var module = make();
            using var graph = module.Graph(ScalarType.Float32);
            var generator = new Generator(2);
            using var x = rand([options.Batch, 1, 28, 28], ScalarType.Float32, generator: generator);
            using var y = randint(0, 10, [options.Batch], ScalarType.Int64, generator: generator);
            var parameters = module.parameters().ToArray();
            double baseline = Timing.Measure(options, () =>
            {
                using var scope = NewDisposeScope();
                foreach (var p in parameters)
                    p.grad?.zero_();
                nn.functional.cross_entropy(module.forward(x), y).backward();
            }).Seconds;
            var backend = new GraphBackend(graph, graph.Layout.Parameters.Select(p => p.Name));
            long estimatorPart = backend.MicroBatch(options.Batch, 10, residual: false); // the exact diagonal's pass: C = 10 streams
            foreach (int streams in new[] { 1, 10 })
            {
                foreach (long part in new[] { estimatorPart, options.Batch }.Distinct())
                {
                    var times = Enumerable.Range(0, 4).Select(_ => Batch(graph, x, streams, part)).Skip(1).OrderBy(t => t.Sum()).ToArray();
                    var median = times[1];
                    Console.WriteLine($"| {name} | {streams} | {part} | " + string.Join(" | ", median.Select(t => $"{t:0.000}")) + $" | {median.Sum():0.000} | {baseline:0.000} |");
                }
            }
        }
    }

    /// <summary>Seconds per phase for one batch in micro-batches of <paramref name="part"/>.</summary>
    private static double[] Batch(LayerGraph graph, Tensor x, int streams, long part)
    {
        var t = new double[Phases.Length];
        var sw = new Stopwatch();
        void Time(int phase, Action action)
        {
            sw.Restart();
            action();
            t[phase] += sw.Elapsed.TotalSeconds;
        }
        using var accumulator = new FisherAccumulator();
        var likelihood = new CategoricalLikelihood(10);
        var nodes = graph.Nodes;
        for (long start = 0; start < x.shape[0]; start += part)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            long size = Math.Min(part, x.shape[0] - start);
            NodeTrace[] traces = [];
            Time(0, () => traces = GraphPasses.Forward(graph, x.narrow(0, start, size), withSecond: false));
            var f = traces[^1].Output;
            var p = f.softmax(-1);
            var top = streams == 1 ? p.narrow(1, 0, 1).unsqueeze(1).expand(size, 1, 10).contiguous() : eye(10).unsqueeze(0).Minus(p.unsqueeze(1));
            var rows = new Dictionary<int, Tensor[]>();
            var grad = new Tensor?[nodes.Count];
            grad[^1] = top;
            for (int i = nodes.Count - 1; i >= 0; i--)
            {
                var g = grad[i]!;
                var node = nodes[i];
                if (node.Factored)
                    Time(2, () => rows[i] = [g.reshape(g.shape[0], g.shape[1], node.OutputSize).clone()]);
                else if (node.Parameters.Count > 0)
                    Time(2, () => rows[i] = Enumerable.Range(0, node.Parameters.Count).Select(k => node.ParameterGradient(traces[i], k, g)).ToArray());
                if (node.Inputs.All(j => j < 0))
                    continue;
                Tensor[] pulled = [];
                Time(1, () => pulled = node.Backward(traces[i], g));
                for (int k = 0; k < node.Inputs.Length; k++)
                    grad[node.Inputs[k]] = grad[node.Inputs[k]] is { } sum ? sum.Plus(pulled[k]) : pulled[k];
            }
            var counts = new List<StreamCount>();
            var blocks = new List<GramBlock>();
            foreach (var (i, r) in rows)
            {
                Tensor[] forms = [];
                Time(3, () => forms = r.Select(v => streams == 1 ? v.Sq() : likelihood.CenteredForms(f, p, v, fisher: true, v1: false, consume: true).Fisher!).ToArray());
                Time(4, () => Accumulate(graph, nodes[i], traces[i], forms, streams == 1 ? FisherQuantity.SquaredScore : FisherQuantity.Exact, counts, blocks));
            }
            Time(4, () => accumulator.Merge(size, counts, blocks));
            foreach (var trace in traces)
                trace.Dispose();
        }
        return t;
    }

    private static void Accumulate(LayerGraph graph, GraphNode node, NodeTrace trace, Tensor[] forms, FisherQuantity quantity, List<StreamCount> counts, List<GramBlock> blocks)
    {
        var infos = node.Parameters.Select(p => graph.Layout[p.Name]).ToArray();
        if (node.Factored)
        {
            LinearMomentRule.Accumulate(counts, blocks, infos[0], infos.Length > 1 ? infos[1] : null, [new UnitValues(quantity, forms[0], 2)], trace.Input, ScalarType.Float32);
            return;
        }
        for (int k = 0; k < infos.Length; k++)
            LinearMomentRule.AccumulateElements(counts, blocks, infos[k], [new UnitValues(quantity, forms[k], 2)], ScalarType.Float32);
    }
}
