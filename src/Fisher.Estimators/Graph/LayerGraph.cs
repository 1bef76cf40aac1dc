using static TorchSharp.torch;

namespace Fisher.Estimators.Graph;

/// <summary>
/// A network as a directed acyclic graph of layers with one rule per layer kind (docs/estimators.md §9.7): built from a
/// <see cref="NetworkSpec"/> and named tensors, shape-checked layer by layer, owning detached copies of its tensors in
/// one dtype. Its parameters keep their PyTorch names. Dispose it to free them.
/// </summary>
public sealed class LayerGraph : IDisposable
{
    private readonly GraphNode[] _nodes;

    private LayerGraph(NetworkSpec spec, GraphNode[] nodes, ScalarType dtype)
    {
        Spec = spec;
        _nodes = nodes;
        DType = dtype;
        InputShape = [.. spec.InputShape];
        InputSize = InputShape.Aggregate(1L, (a, b) => checked(a * b));
        var parameterized = nodes.Where(n => n.Parameters.Count > 0).ToArray();
        Layout = new ParameterLayout(parameterized.Select(n => (n.Name, n.Parameters.Select(p => (p.Name, p.Kind, p.Tensor.shape)).ToArray())).ToArray());
        ParameterNodes = parameterized.Select(n => Array.IndexOf(nodes, n)).ToArray();
    }

    /// <summary>The description the graph was built from.</summary>
    public NetworkSpec Spec { get; }

    /// <summary>float32 or float64: the dtype all computation runs in.</summary>
    public ScalarType DType { get; }

    /// <summary>Per-sample input shape.</summary>
    public long[] InputShape { get; }

    /// <summary>Per-sample input elements.</summary>
    public long InputSize { get; }

    /// <summary>Width of the output f.</summary>
    public int OutputWidth => (int)_nodes[^1].OutputSize;

    /// <summary>Every parameter tensor with its name, layer (index among the layers with parameters) and shape.</summary>
    public ParameterLayout Layout { get; }

    internal IReadOnlyList<GraphNode> Nodes => _nodes;

    /// <summary>Node index of each layer with parameters, in <see cref="Layout"/>'s layer order.</summary>
    internal int[] ParameterNodes { get; }

    /// <summary>
    /// Builds the graph, taking each layer's tensors from <paramref name="tensors"/> by name (copied into
    /// <paramref name="dtype"/>; tensors no layer names are ignored). Errors name the layer or tensor and what was
    /// expected: <see cref="InvalidNetworkException"/>, or <see cref="UnsupportedLayerException"/>.
    /// </summary>
    public static LayerGraph Build(NetworkSpec spec, IReadOnlyDictionary<string, Tensor> tensors, ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(tensors);
        if (dtype is not (ScalarType.Float32 or ScalarType.Float64))
            throw new InvalidNetworkException($"dtype {dtype} is not supported; expected float32 or float64");
        spec.Validate();
        var source = new TensorSource(tensors, dtype);
        var index = new Dictionary<string, int>(StringComparer.Ordinal) { [NetworkSpec.InputName] = -1 };
        var nodes = new List<GraphNode>();
        try
        {
            foreach (var layer in spec.Layers)
            {
                var inputs = layer.Inputs.Select(i => index[i]).ToArray();
                var shapes = inputs.Select(i => i < 0 ? spec.InputShape.ToArray() : nodes[i].OutputShape).ToArray();
                var node = LayerRules.Create(layer, inputs, shapes, source);
                index[layer.Name] = nodes.Count;
                nodes.Add(node);
            }
            if (nodes[^1].OutputShape.Length != 1)
                throw new InvalidNetworkException($"layer '{nodes[^1].Name}': the output layer must give flat natural parameters, got per-sample shape [{string.Join(", ", nodes[^1].OutputShape)}]");
            if (nodes[^1].OutputSize > 4096)
                throw new InvalidNetworkException($"layer '{nodes[^1].Name}': {nodes[^1].OutputSize} outputs; at most 4096 are supported");
            return new LayerGraph(spec, [.. nodes], dtype);
        }
        catch
        {
            foreach (var node in nodes)
                node.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The network output f (batch, outputs) for inputs of shape (batch, *<see cref="InputShape"/>) or flat rows
    /// (batch, <see cref="InputSize"/>); a fresh tensor.
    /// </summary>
    public Tensor Forward(Tensor inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var traces = GraphPasses.Forward(this, Shaped(inputs), withSecond: false);
        var output = traces[^1].Output.MoveToOuterDisposeScope();
        foreach (var t in traces)
            t.Dispose();
        return output;
    }

    /// <summary>
    /// The estimated cost per input of a <see cref="FisherEstimator"/> with <paramref name="options"/> on this graph
    /// (the passes of <see cref="FisherEstimator.PassPlan"/>, the pull-backs and parameter gradients of every stream, and
    /// the unit streams of exact per-sample Hessian diagonals through convolutions, §9.7).
    /// </summary>
    public EstimatorCost EstimateCost(EstimatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var backend = new GraphBackend(this, options.Parameters ?? Layout.Parameters.Select(p => p.Name).ToArray());
        int outputs = OutputWidth, draws = options.DrawsPerInput;
        var plan = FisherEstimator.PassPlan.Of(options.Quantities, draws, outputs, backend.Smooth);
        double forward = _nodes.Sum(n => (double)n.BackwardCost);
        int streams = plan.Streams(outputs, draws);
        double first = streams * backend.Passes.FirstOrderCost();
        int residualStreams = plan.JacobianResidual ? outputs : plan.DrawnResidual ? draws : 0;
        var second = residualStreams == 0 ? [] : backend.Passes.SecondOrderCost(residualStreams);
        var byLayer = second.Select(kv => (_nodes[kv.Key].Name, kv.Value)).OrderByDescending(x => x.Value).ToArray();
        string driving = byLayer.Length > 0 ? byLayer[0].Name
            : _nodes.Where(n => n.Parameters.Count > 0).MaxBy(n => n.ParameterGradientCost + n.BackwardCost)!.Name;
        long bytes = checked(backend.ElementsPerInput(streams) * (DType == ScalarType.Float32 ? 4 : 8));
        return new EstimatorCost(forward + first + byLayer.Sum(x => x.Value), byLayer.Sum(x => x.Value), bytes, driving) { SecondOrderByLayer = byLayer };
    }

    /// <summary>
    /// Per-sample gradients of ∂(vᵀf)/∂θ for every parameter tensor and every stream v: <paramref name="streams"/> is
    /// (batch, S, outputs), e.g. the identity for the Jacobian or a score for the log-likelihood; returns, by parameter
    /// name, (batch, S, *shape) fresh tensors.
    /// </summary>
    public Dictionary<string, Tensor> PerSampleGradients(Tensor inputs, Tensor streams)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(streams);
        if (streams.dim() != 3 || streams.shape[0] != inputs.shape[0] || streams.shape[2] != OutputWidth)
            throw new ArgumentException($"streams: expected shape [{inputs.shape[0]}, S, {OutputWidth}], got [{string.Join(", ", streams.shape)}]", nameof(streams));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var passes = new GraphPasses(this, _nodes.Select(n => n.Parameters.Count > 0).ToArray());
        var traces = GraphPasses.Forward(this, Shaped(inputs), withSecond: false);
        try
        {
            var rows = passes.Run(traces, streams.to(DType), withResidual: false);
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (int i in ParameterNodes)
            {
                var node = _nodes[i];
                for (int k = 0; k < node.Parameters.Count; k++)
                {
                    var g = node.Factored ? node.ParameterGradient(traces[i], k, rows.First[i]![0]) : rows.First[i]![k];
                    result[node.Parameters[k].Name] = g.reshape([g.shape[0], g.shape[1], .. node.Parameters[k].Tensor.shape]).MoveToOuterDisposeScope();
                }
            }
            return result;
        }
        finally
        {
            foreach (var t in traces)
                t.Dispose();
        }
    }

    /// <summary>The inputs as (batch, *<see cref="InputShape"/>) in the graph's dtype; throws <see cref="InvalidBatchException"/> on a wrong shape.</summary>
    internal Tensor Shaped(Tensor inputs)
    {
        bool flat = inputs.dim() == 2 && inputs.shape[1] == InputSize;
        bool full = inputs.dim() == InputShape.Length + 1 && inputs.shape.Skip(1).SequenceEqual(InputShape);
        if (!flat && !full)
            throw new InvalidBatchException("inputs", $"expected shape [batch, {string.Join(", ", InputShape)}] (or [batch, {InputSize}]) for the network's first layer '{_nodes[0].Name}', got [{string.Join(", ", inputs.shape)}]");
        var x = inputs.to(DType);
        return flat && InputShape.Length > 1 ? x.reshape([x.shape[0], .. InputShape]) : x;
    }

    /// <summary>
    /// The same network as a <see cref="FeedForwardNetwork"/> when it is a chain of Linear layers with biases and
    /// element-wise activations (Identity and Dropout allowed) on a flat input, ending in a Linear layer: the fused fast
    /// path of §9.5 serves it. Null otherwise.
    /// </summary>
    public FeedForwardNetwork? AsFeedForward()
    {
        if (InputShape.Length != 1)
            return null;
        var weights = new List<Tensor>();
        var biases = new List<Tensor>();
        var names = new List<string>();
        var activations = new List<Activation>();
        Activation? pending = null;
        int previous = -1;
        for (int i = 0; i < _nodes.Length; i++)
        {
            var node = _nodes[i];
            if (node.Inputs.Length != 1 || node.Inputs[0] != previous)
                return null;
            previous = i;
            switch (node)
            {
                case LinearNode { Bias: not null } linear:
                    if (linear.Parameters[0].Name != $"{linear.Name}.weight" || linear.Parameters[1].Name != $"{linear.Name}.bias")
                        return null; // renamed tensors (ONNX initializers): the MLP network names them by module
                    if (weights.Count > 0)
                        activations.Add(pending ?? Activation.Identity);
                    else if (pending is not null && pending.Kind != ActivationKind.Identity)
                        return null;
                    pending = null;
                    weights.Add(linear.Weight);
                    biases.Add(linear.Bias);
                    names.Add(linear.Name);
                    break;
                case ActivationNode activation:
                    if (pending is not null && pending.Kind != ActivationKind.Identity && activation.Activation.Kind != ActivationKind.Identity)
                        return null;
                    if (pending is null || pending.Kind == ActivationKind.Identity)
                        pending = activation.Activation;
                    break;
                case IdentityNode:
                    break;
                default:
                    return null;
            }
        }
        if (_nodes[^1] is not LinearNode)
            return null;
        return FeedForwardNetwork.FromTensors(weights, biases, activations, names, DType);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var node in _nodes)
            node.Dispose();
    }
}
