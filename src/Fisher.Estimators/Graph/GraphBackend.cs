using static TorchSharp.torch;

namespace Fisher.Estimators.Graph;

/// <summary>
/// The estimator's backend for a <see cref="LayerGraph"/>: forward traces and sweeps of <see cref="GraphPasses"/>; a
/// batch is processed in micro-batches that keep one pass's working set near <see cref="WorkingElements"/>.
/// </summary>
internal sealed class GraphBackend : IEstimatorBackend
{
    /// <summary>Elements of the network dtype one micro-batch's rows and traces should hold, roughly.</summary>
    public const long WorkingElements = 1L << 25;

    private readonly LayerGraph _graph;
    private readonly GraphPasses _passes;
    private readonly ParameterInfo?[][] _infos; // per node, per parameter part: the requested ones

    public GraphBackend(LayerGraph graph, IEnumerable<string> parameters)
    {
        _graph = graph;
        var nodes = graph.Nodes;
        _infos = new ParameterInfo?[nodes.Count][];
        for (int i = 0; i < nodes.Count; i++)
            _infos[i] = new ParameterInfo?[nodes[i].Parameters.Count];
        var requested = new bool[nodes.Count];
        foreach (var name in parameters)
        {
            var info = graph.Layout[name];
            int node = graph.ParameterNodes[info.LayerIndex];
            int part = nodes[node].Parameters.Select((p, k) => (p, k)).First(x => x.p.Name == name).k;
            _infos[node][part] = info;
            requested[node] = true;
        }
        _passes = new GraphPasses(graph, requested);
        Smooth = nodes.Any(n => n is ActivationNode a && !a.Activation.IsPiecewiseLinear);
    }

    /// <summary>The graph's sweeps for the requested layers.</summary>
    public GraphPasses Passes => _passes;

    public ScalarType DType => _graph.DType;

    public int OutputWidth => _graph.OutputWidth;

    public string OutputLayer => _graph.Nodes[^1].Name;

    public bool Smooth { get; }

    public Tensor Prepare(Tensor inputs) => _graph.Shaped(inputs);

    /// <summary>Elements one input holds in a pass: the traces, and per stream the gradients at every node and the rows of every parameter.</summary>
    public long ElementsPerInput(int streams)
    {
        long activations = _graph.Nodes.Sum(n => n.OutputSize);
        long rows = _graph.Nodes.Sum(n => n.Factored ? n.OutputSize : n.Parameters.Sum(p => p.Tensor.numel()));
        return checked(4 * activations + 3 * (long)streams * (activations + rows));
    }

    public long MicroBatch(long batch, int streams) => Math.Clamp(WorkingElements / Math.Max(1, ElementsPerInput(streams)), 1, batch);

    public IBatchRun Start(Tensor x, bool withSecond)
    {
        var traces = GraphPasses.Forward(_graph, x, withSecond);
        var targets = new List<MomentTarget>();
        for (int i = 0; i < _infos.Length; i++)
        {
            var infos = _infos[i];
            if (infos.All(p => p is null))
                continue;
            var node = _graph.Nodes[i];
            if (node.Factored)
            {
                targets.Add(new MomentTarget(i, 0, infos[0], infos.Length > 1 ? infos[1] : null, traces[i].Input, Elements: false));
                continue;
            }
            for (int k = 0; k < infos.Length; k++)
            {
                if (infos[k] is { } info)
                    targets.Add(new MomentTarget(i, k, null, info, null, Elements: true));
            }
        }
        return new Run(_passes, traces, targets);
    }

    private sealed class Run(GraphPasses passes, NodeTrace[] traces, IReadOnlyList<MomentTarget> targets) : IBatchRun
    {
        public Tensor Output => traces[^1].Output;

        public IReadOnlyList<MomentTarget> Targets => targets;

        public IStreamRows Jacobian(Tensor? centering, bool withResidual)
        {
            var f = Output;
            int outputs = (int)f.shape[1];
            var top = eye(outputs, dtype: f.dtype).unsqueeze(0);
            top = centering is null ? top.expand(f.shape[0], outputs, outputs) : top.Minus(centering.unsqueeze(1));
            return new Rows(passes.Run(traces, top, withResidual));
        }

        public IStreamRows Streams(Tensor top, bool withResidual) => new Rows(passes.Run(traces, top, withResidual));

        public void Dispose()
        {
            foreach (var t in traces)
                t.Dispose();
        }
    }

    private sealed class Rows(GraphRows rows) : IStreamRows
    {
        public Tensor? First(in MomentTarget target) => rows.First[target.Node]![target.Part];

        public Tensor? Residual(in MomentTarget target) => rows.Residual[target.Node]?[target.Part];
    }
}
