using static TorchSharp.torch;

namespace Fisher.Estimators.Graph;

/// <summary>
/// The estimator's backend for a <see cref="LayerGraph"/>: forward traces and sweeps of <see cref="GraphPasses"/>; a
/// batch is processed in micro-batches that keep one pass's working set near EstimatorOptions.WorkingElements.
/// </summary>
internal sealed class GraphBackend : IEstimatorBackend
{
    /// <summary>Elements of the network dtype one micro-batch's rows and traces should hold by default, roughly (256 MB of float32).</summary>
    public const long DefaultWorkingElements = 1L << 26;

    private readonly long _workingElements;

    private readonly LayerGraph _graph;
    private readonly GraphPasses _passes;
    private readonly ParameterInfo?[][] _infos; // per node, per parameter part: the requested ones

    public GraphBackend(LayerGraph graph, IEnumerable<string> parameters, long workingElements = DefaultWorkingElements)
    {
        _graph = graph;
        _workingElements = workingElements;
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

    /// <summary>
    /// Elements one input holds in a pass with <paramref name="streams"/> streams: the forward trace (outputs, saved
    /// derivatives, unfolded inputs), the rows of every requested parameter (twice with residual rows), the gradients
    /// alive during a sweep (a few of the widest node), and the temporaries of one target's forms.
    /// </summary>
    public long ElementsPerInput(int streams, bool residual)
    {
        var nodes = _graph.Nodes;
        long trace = nodes.Sum(n => n.OutputSize + n.TraceElements);
        var widths = Enumerable.Range(0, nodes.Count).Where(i => _infos[i].Any(p => p is not null))
            .SelectMany(i => nodes[i].Factored ? [nodes[i].OutputSize] : nodes[i].Parameters.Select(p => p.Tensor.numel())).DefaultIfEmpty(0).ToArray();
        long rows = widths.Sum() * (residual ? 2 : 1);
        long frontier = 3 * nodes.Max(n => n.OutputSize);
        long forms = 4 * widths.Max();
        return checked(trace + (long)streams * (rows + frontier + forms));
    }

    public long MicroBatch(long batch, int streams, bool residual) => Math.Clamp(_workingElements / Math.Max(1, ElementsPerInput(streams, residual)), 1, batch);

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
