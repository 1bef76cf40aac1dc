using static TorchSharp.torch;

namespace Fisher.Estimators.Graph;

/// <summary>
/// The passes of the graph estimator (docs/estimators.md §9.7): the forward trace, and per set of S output-space
/// streams one backward sweep that yields, at every requested layer, the first-order rows (unit rows for factored
/// Linear layers, per-parameter gradients otherwise) and, when asked, the Hessian-diagonal rows
/// H_i = Σ_u r_u (∂t_u/∂θ_i)² summed over every curved unit u (r_u = σ''(t_u) times the stream's gradient at the
/// activation's output). Curvature reaches a layer along a unique path of element-wise layers as a diagonal (the
/// squared Jacobians multiply it, and the layer's squared parameter gradient turns it into rows); any other path
/// (through a convolution, a pooling or a Linear layer, or two paths that meet) needs the gradients of every curved
/// unit, obtained by sweeping one-hot "unit streams" from the activation down, squared and weighted by r.
/// </summary>
internal sealed class GraphPasses
{
    /// <summary>Elements (of the network dtype) one chunk of unit streams may hold per tensor.</summary>
    public const long ChunkElements = 1L << 24;

    private readonly IReadOnlyList<GraphNode> _nodes;
    private readonly int[,] _paths;
    private readonly bool[] _requested; // per node

    public GraphPasses(LayerGraph graph, bool[] requestedNodes)
    {
        _nodes = graph.Nodes;
        _requested = requestedNodes;
        _paths = CountPaths(_nodes);
        Lowest = Array.IndexOf(requestedNodes, true);
        Curved = Enumerable.Range(0, _nodes.Count)
            .Where(m => _nodes[m] is ActivationNode a && !a.Activation.IsPiecewiseLinear && _nodes[m].Inputs[0] >= Lowest)
            .ToDictionary(m => m, PlanCurvature);
    }

    /// <summary>
    /// How the curvature of one smooth activation reaches the requested layers: the walk along unique element-wise paths
    /// (nodes in depth-first order, each with the node and input it was reached from), and the layers left to unit
    /// streams from the activation's input node down to the lowest of them.
    /// </summary>
    internal sealed record CurvaturePlan(int Producer, (int Node, int From, int Input)[] Walk, int[] StreamTargets);

    /// <summary>The plan of every smooth activation above the lowest requested layer, by node index.</summary>
    internal IReadOnlyDictionary<int, CurvaturePlan> Curved { get; }

    private CurvaturePlan PlanCurvature(int m)
    {
        int p = _nodes[m].Inputs[0];
        var walk = new List<(int, int, int)>();
        void Visit(int q, int from, int input)
        {
            walk.Add((q, from, input));
            if (!_nodes[q].Elementwise)
                return;
            var inputs = _nodes[q].Inputs;
            for (int k = 0; k < inputs.Length; k++)
            {
                if (inputs[k] >= Lowest && _paths[inputs[k], m] == 1)
                    Visit(inputs[k], q, k);
            }
        }
        Visit(p, -1, -1);
        var handled = walk.Select(w => w.Item1).Where(q => _requested[q]).ToHashSet();
        var targets = Enumerable.Range(Lowest, p - Lowest + 1).Where(l => _requested[l] && !handled.Contains(l) && (l == p || _paths[l, m] > 0)).ToArray();
        return new CurvaturePlan(p, [.. walk], targets);
    }

    /// <summary>The lowest requested node: sweeps stop there.</summary>
    public int Lowest { get; }

    /// <summary>Runs every node on (batch, *input shape) inputs; the caller disposes the traces.</summary>
    public static NodeTrace[] Forward(LayerGraph graph, Tensor x, bool withSecond)
    {
        var nodes = graph.Nodes;
        var traces = new NodeTrace[nodes.Count];
        for (int i = 0; i < nodes.Count; i++)
        {
            var inputs = nodes[i].Inputs.Select(j => j < 0 ? x : traces[j].Output).ToArray();
            traces[i] = nodes[i].Forward(inputs, withSecond);
        }
        return traces;
    }

    /// <summary>
    /// One sweep of the streams <paramref name="top"/> (batch, S, outputs) from the output down: first-order rows at
    /// every requested node and, with <paramref name="withResidual"/>, the Hessian-diagonal rows (zero where no curved
    /// unit lies above the node: then null).
    /// </summary>
    public GraphRows Run(NodeTrace[] traces, Tensor top, bool withResidual)
    {
        var rows = new GraphRows(_nodes.Count);
        var curved = new List<(CurvaturePlan Plan, Tensor R)>();
        Sweep(traces, _nodes.Count - 1, top, Lowest, (i, g) =>
        {
            if (_requested[i])
                rows.First[i] = Rows(traces[i], i, g, squared: false);
            if (withResidual && Curved.TryGetValue(i, out var plan))
                curved.Add((plan, g.mul(_nodes[i].Curvature(traces[i])!.unsqueeze(1))));
        });
        foreach (var (plan, r) in curved)
        {
            Walk(traces, rows, plan, r);
            UnitStreams(traces, rows, plan, r);
        }
        return rows;
    }

    /// <summary>
    /// Reverse-topological sweep: the gradient of every node's output is complete when the node is reached (its
    /// readers come later in the order); <paramref name="visit"/> sees it, then it is pulled back to the node's inputs.
    /// Streams that are the same for every sample may start with a batch dimension of 1: they keep it through
    /// sample-free pull-backs and are expanded to the batch at the first node that reads the sample, or where
    /// <paramref name="fullBatchAt"/> asks for it.
    /// </summary>
    private void Sweep(NodeTrace[] traces, int start, Tensor startGradient, int lowest, Action<int, Tensor> visit, Func<int, bool>? fullBatchAt = null)
    {
        long batch = traces[0].Output.shape[0];
        var grad = new Tensor?[start + 1];
        grad[start] = startGradient;
        for (int i = start; i >= lowest; i--)
        {
            var g = grad[i];
            if (g is null)
                continue;
            grad[i] = null;
            if (g.shape[0] != batch && (!_nodes[i].SampleFree || (fullBatchAt?.Invoke(i) ?? true)))
                g = g.expand([batch, .. g.shape.Skip(1)]);
            visit(i, g);
            var inputs = _nodes[i].Inputs;
            if (!inputs.Any(j => j >= lowest))
                continue;
            var pulled = _nodes[i].Backward(traces[i], g);
            for (int k = 0; k < inputs.Length; k++)
            {
                int j = inputs[k];
                if (j >= lowest)
                    grad[j] = grad[j] is null ? pulled[k] : grad[j]!.Plus(pulled[k]); // never in place: pulls may alias
            }
        }
    }

    /// <summary>
    /// Carries the diagonal curvature r of one activation down its walk (nodes reached by exactly one path of
    /// element-wise layers): each step multiplies it by the squared diagonal Jacobian of the node it passes, and
    /// requested layers on the way get their Hessian-diagonal rows directly.
    /// </summary>
    private void Walk(NodeTrace[] traces, GraphRows rows, CurvaturePlan plan, Tensor r)
    {
        var rho = new Dictionary<int, Tensor>();
        foreach (var (q, from, input) in plan.Walk)
        {
            var d = from < 0 ? null : _nodes[from].SquaredDiagonal(traces[from], input);
            var here = from < 0 ? r : d is null ? rho[from] : rho[from].mul(d);
            rho[q] = here;
            if (_requested[q])
                rows.AddResidual(q, Rows(traces[q], q, here, squared: true), Widths(q));
        }
    }

    /// <summary>
    /// The curvature of one activation (its <paramref name="plan"/>, residual weights <paramref name="r"/>) at requested layers that the walk did not reach: one-hot streams
    /// over its units u (in chunks), swept down; at each such layer the rows Y of the unit streams give
    /// Σ_u r_u Y_u∘2 (a batched product of r with the squared rows).
    /// </summary>
    private void UnitStreams(NodeTrace[] traces, GraphRows rows, CurvaturePlan plan, Tensor r)
    {
        int p = plan.Producer;
        var targets = plan.StreamTargets;
        if (targets.Length == 0)
            return;
        var isTarget = new bool[p + 1];
        foreach (var l in targets)
            isTarget[l] = true;
        int lowest = targets.Min();
        long batch = r.shape[0], streams = r.shape[1], units = _nodes[p].OutputSize;
        long widest = Enumerable.Range(lowest, p - lowest + 1).Max(i => Math.Max(_nodes[i].OutputSize, _nodes[i].Parameters.Sum(x => x.Tensor.numel())));
        long chunk = Math.Clamp(ChunkElements / Math.Max(1, batch * widest), 1, units);
        var flatR = r.reshape(batch, streams, units);
        var shape = new long[] { batch, 0 }.Concat(_nodes[p].OutputShape).ToArray();
        foreach (var l in targets)
            rows.EnsureResidual(l, batch, streams, Widths(l), r.dtype);
        for (long start = 0; start < units; start += chunk)
        {
            using var scope = NewDisposeScope();
            long size = Math.Min(chunk, units - start);
            shape[1] = size;
            var basis = zeros([size, units], r.dtype);
            basis.narrow(1, start, size).copy_(eye(size, dtype: r.dtype));
            shape[0] = 1; // the same for every sample: batched only from the first node that reads the sample
            var oneHot = basis.reshape(shape);
            var weights = flatR.narrow(2, start, size);
            Sweep(traces, p, oneHot, lowest, (i, g) =>
            {
                if (isTarget[i])
                    rows.AddSquares(i, Rows(traces[i], i, g, squared: false), weights);
            }, i => isTarget[i] && !_nodes[i].Factored);
        }
    }

    /// <summary>
    /// The rows of a requested node for streams g at its output: unit rows (batch, S, n) for a factored node, else one
    /// (batch, S, P) per parameter tensor; with <paramref name="squared"/>, g is a diagonal curvature and the rows are
    /// the squared parameter gradients.
    /// </summary>
    private Tensor[] Rows(NodeTrace trace, int i, Tensor g, bool squared)
    {
        var node = _nodes[i];
        if (node.Factored)
            return [g.reshape(g.shape[0], g.shape[1], node.OutputSize).clone()]; // the forms may square rows in place; g may be shared
        var result = new Tensor[node.Parameters.Count];
        for (int k = 0; k < result.Length; k++)
            result[k] = squared ? node.SquaredParameterGradient(trace, k, g) : node.ParameterGradient(trace, k, g);
        return result;
    }

    /// <summary>Multiply-adds per input of one first-order sweep of one stream: every pull-back down to the lowest requested node, and the requested parameter gradients.</summary>
    public double FirstOrderCost() =>
        Enumerable.Range(Lowest, _nodes.Count - Lowest).Sum(i => (_nodes[i].Inputs.Any(j => j >= Lowest) ? (double)_nodes[i].BackwardCost : 0) + (_requested[i] ? _nodes[i].ParameterGradientCost : 0));

    /// <summary>
    /// Multiply-adds per input of the residual rows for <paramref name="streams"/> streams, by requested node: per smooth
    /// activation, its units times the pull-backs of one unit stream from the activation down to each target, the
    /// target's parameter gradient, and the product of the squared rows with the residual weights.
    /// </summary>
    public Dictionary<int, double> SecondOrderCost(int streams)
    {
        var cost = new Dictionary<int, double>();
        foreach (var (m, plan) in Curved)
        {
            double units = _nodes[plan.Producer].OutputSize;
            foreach (var (q, _, _) in plan.Walk.Where(w => _requested[w.Node]))
                cost[q] = cost.GetValueOrDefault(q) + (double)streams * _nodes[q].ParameterGradientCost;
            foreach (var t in plan.StreamTargets)
            {
                double sweep = Enumerable.Range(t + 1, plan.Producer - t).Where(i => i == plan.Producer || _paths[i, m] > 0).Sum(i => (double)_nodes[i].BackwardCost);
                double rows = _nodes[t].ParameterGradientCost + 2.0 * streams * Widths(t).Sum();
                cost[t] = cost.GetValueOrDefault(t) + units * (sweep + rows);
            }
        }
        return cost;
    }

    /// <summary>The row widths of a requested node: its units (factored) or the size of each parameter tensor.</summary>
    private long[] Widths(int i) => _nodes[i].Factored ? [_nodes[i].OutputSize] : _nodes[i].Parameters.Select(p => p.Tensor.numel()).ToArray();

    /// <summary>paths[a, b]: the number of paths from node a's output into node b, capped at 2.</summary>
    private static int[,] CountPaths(IReadOnlyList<GraphNode> nodes)
    {
        int n = nodes.Count;
        var paths = new int[n, n];
        for (int b = 0; b < n; b++)
        {
            for (int a = b - 1; a >= 0; a--)
            {
                int count = 0;
                for (int c = a + 1; c <= b; c++)
                {
                    int edges = nodes[c].Inputs.Count(j => j == a);
                    if (edges == 0)
                        continue;
                    count += edges * (c == b ? 1 : paths[c, b]);
                }
                paths[a, b] = Math.Min(count, 2);
            }
        }
        return paths;
    }
}

/// <summary>
/// The rows of one sweep, per node (null for nodes not requested): First[i] and Residual[i] hold one tensor for a
/// factored node (its unit rows) or one per parameter tensor. Residual rows are allocated once, in the caller's scope,
/// and added into in place.
/// </summary>
internal sealed class GraphRows(int nodes)
{
    public Tensor[]?[] First { get; } = new Tensor[]?[nodes];

    public Tensor[]?[] Residual { get; } = new Tensor[]?[nodes];

    /// <summary>Zero residual rows (batch, S, width) for node i, unless it has them.</summary>
    public void EnsureResidual(int i, long batch, long streams, long[] widths, ScalarType dtype) =>
        Residual[i] ??= widths.Select(w => zeros([batch, streams, w], dtype)).ToArray();

    /// <summary>Adds diagonal-curvature rows into the residual of node i.</summary>
    public void AddResidual(int i, Tensor[] rows, long[] widths)
    {
        EnsureResidual(i, rows[0].shape[0], rows[0].shape[1], widths, rows[0].dtype);
        for (int k = 0; k < rows.Length; k++)
            Residual[i]![k].PlusInPlace(rows[k]);
    }

    /// <summary>Adds Σ_u w_u Y_u∘2 = w (Y∘2) for unit-stream rows Y (batch, s, width) and weights w (batch, S, s).</summary>
    public void AddSquares(int i, Tensor[] rows, Tensor weights)
    {
        for (int k = 0; k < rows.Length; k++)
            Residual[i]![k].PlusInPlace(weights.matmul(rows[k].Sq()));
    }
}
