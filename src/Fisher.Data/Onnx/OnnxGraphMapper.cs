using System.Globalization;
using Fisher.Estimators;
using Fisher.Estimators.Graph;

namespace Fisher.Data.Onnx;

/// <summary>
/// Maps an ONNX graph as torch.onnx.export writes it onto a <see cref="NetworkSpec"/>, one node (or one known node
/// pattern: SiLU as x·sigmoid(x), GELU's erf form, Linear as MatMul + Add, a flatten as Shape/Gather/Unsqueeze/Concat/
/// Reshape) per layer. Layers with parameters are named after their weight initializer (<c>features.0</c> from
/// <c>features.0.weight</c>) and keep the initializers' names for their tensors, so results map to state_dict keys;
/// parameter-free layers take the ONNX node name. Anything else is refused naming the node and op.
/// </summary>
internal sealed partial class OnnxGraphMapper
{
    /// <summary>The ONNX ops the importer maps (as listed in errors and in src/Fisher.Data/README.md).</summary>
    public static readonly string SupportedOps =
        "Conv (1-d, 2-d), Gemm, MatMul+Add, BatchNormalization, MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape (flatten), " +
        "Add, Relu, LeakyRelu, Elu, Tanh, Sigmoid, Softplus, x*Sigmoid(x), Gelu and its erf form, Identity, Dropout, Constant";

    private readonly string _path;
    private readonly OnnxGraph _graph;
    private readonly Dictionary<string, string> _activations = new(StringComparer.Ordinal);    // value -> layer
    private readonly Dictionary<string, OnnxTensor> _constants = new(StringComparer.Ordinal);  // value -> tensor
    private readonly Dictionary<string, List<OnnxNode>> _consumers = new(StringComparer.Ordinal);
    private readonly HashSet<OnnxNode> _claimed = [];
    private readonly List<LayerSpec> _layers = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal) { NetworkSpec.InputName };
    private readonly Dictionary<string, string> _tensorUsers = new(StringComparer.Ordinal); // tensor -> layer

    private OnnxGraphMapper(string path, OnnxGraph graph)
    {
        _path = path;
        _graph = graph;
        foreach (var t in graph.Initializers)
            _constants[t.Name] = t;
        foreach (var node in graph.Nodes.Where(n => n.OpType == "Constant" && n.Domain is "" or "ai.onnx"))
        {
            MapConstant(node); // a pattern may read a Constant written after its first node
            _claimed.Add(node);
        }
        foreach (var node in graph.Nodes)
            foreach (var input in node.Inputs.Where(i => i.Length > 0))
                (_consumers.TryGetValue(input, out var list) ? list : _consumers[input] = []).Add(node);
    }

    /// <summary>The network, and every tensor a layer names (initializers and their Identity aliases).</summary>
    public static (NetworkSpec Spec, Dictionary<string, OnnxTensor> Tensors) Map(string path, OnnxGraph graph)
    {
        var mapper = new OnnxGraphMapper(path, graph);
        var inputShape = mapper.ReadInput();
        foreach (var node in graph.Nodes)
        {
            if (!mapper._claimed.Contains(node))
                mapper.MapNode(node);
        }
        var spec = new NetworkSpec(inputShape, mapper.Finish());
        try
        {
            spec.Validate();
        }
        catch (InvalidNetworkException e)
        {
            throw new DataFormatException(path, $"graph: {e.Message}", e);
        }
        var tensors = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        foreach (var name in spec.Layers.Where(l => l.Tensors is not null).SelectMany(l => l.Tensors!.Values))
            tensors[name] = mapper._constants[name];
        return (spec, tensors);
    }

    private long[] ReadInput()
    {
        var inputs = _graph.Inputs.Where(i => !_constants.ContainsKey(i.Name)).ToArray();
        if (inputs.Length != 1)
            throw Fail($"graph: {inputs.Length} inputs besides the initializers; expected one (the batch of samples)");
        var input = inputs[0];
        if (input.ElementType is not (OnnxTensor.Float or OnnxTensor.Double))
            throw Fail($"graph input '{OnnxNode.Shorten(input.Name)}': element type {input.ElementType}; expected 1 (float) or 11 (double)");
        var shape = input.Shape;
        if (shape is null || shape.Count is < 2 or > 4 || shape.Skip(1).Any(d => d is not > 0))
            throw Fail($"graph input '{OnnxNode.Shorten(input.Name)}': shape [{Dims(shape)}]; expected (batch, features), (batch, channels, length) or (batch, channels, height, width) with fixed sizes after the batch");
        _activations[input.Name] = NetworkSpec.InputName;
        return [.. shape.Skip(1).Select(d => d!.Value)];
    }

    private List<LayerSpec> Finish()
    {
        if (_graph.Outputs.Count != 1)
            throw Fail($"graph: {_graph.Outputs.Count} outputs; expected one (the network output f)");
        var output = _graph.Outputs[0].Name;
        if (!_activations.TryGetValue(output, out var layer) || _layers.Count == 0 || _layers[^1].Name != layer)
            throw Fail($"graph output '{OnnxNode.Shorten(output)}': expected the output of the last layer");
        return _layers;
    }

    private static string Dims(IReadOnlyList<long?>? shape) =>
        shape is null ? "unknown" : string.Join(", ", shape.Select(d => d?.ToString(CultureInfo.InvariantCulture) ?? "?"));

    private DataFormatException Fail(string detail) => new(_path, detail);

    private DataFormatException Fail(OnnxNode node, string detail) => new(_path, $"{node.Describe()}: {detail}");

    private DataFormatException Unsupported(OnnxNode node, string? why = null) =>
        new(_path, $"{node.Describe()} is not supported{(why is null ? "" : $" ({why})")}; supported: {SupportedOps}");

    /// <summary>The layer an activation value comes from; refuses constants and unknown values.</summary>
    private string Activation(OnnxNode node, int index)
    {
        if (index >= node.Inputs.Count || node.Inputs[index].Length == 0)
            throw Fail(node, $"input {index} is missing");
        var value = node.Inputs[index];
        if (_activations.TryGetValue(value, out var layer))
            return layer;
        throw Fail(node, $"input {index} '{OnnxNode.Shorten(value)}' is {(_constants.ContainsKey(value) ? "a constant" : "not produced by an earlier node")}; expected a layer's output");
    }

    /// <summary>A constant input (initializer, Constant node or an Identity of one), or null when the input is absent and optional.</summary>
    private OnnxTensor? Constant(OnnxNode node, int index, bool required)
    {
        if (index >= node.Inputs.Count || node.Inputs[index].Length == 0)
            return required ? throw Fail(node, $"input {index} is missing") : null;
        if (_constants.TryGetValue(node.Inputs[index], out var t))
            return t;
        throw Fail(node, $"input {index} '{OnnxNode.Shorten(node.Inputs[index])}': expected a constant (an initializer)");
    }

    /// <summary>Adds a layer producing the node's first output; the output is the only one any node may read.</summary>
    private void Add(OnnxNode node, LayerSpec layer, OnnxNode? last = null)
    {
        var producer = last ?? node;
        foreach (var extra in producer.Outputs.Skip(1).Where(o => o.Length > 0 && (_consumers.ContainsKey(o) || _graph.Outputs.Any(g => g.Name == o))))
            throw Fail(producer, $"output '{OnnxNode.Shorten(extra)}' is used; only the first output of this op is supported");
        foreach (var tensor in layer.Tensors?.Values ?? [])
        {
            if (!_tensorUsers.TryAdd(tensor, layer.Name))
                throw Fail(node, $"initializer '{OnnxNode.Shorten(tensor)}' is already used by layer '{_tensorUsers[tensor]}'; shared (tied) weights are not supported");
        }
        _layers.Add(layer);
        _names.Add(layer.Name);
        _activations[producer.Outputs[0]] = layer.Name;
    }

    /// <summary>A layer name: the module of <paramref name="weight"/> (<c>a.b</c> of <c>a.b.weight</c>), else the node name.</summary>
    private string LayerName(OnnxNode node, string? weight)
    {
        if (weight is not null && weight.EndsWith(".weight", StringComparison.Ordinal) && weight.Length > 7 && !_names.Contains(weight[..^7]))
            return weight[..^7];
        foreach (var candidate in new[] { node.Name, OnnxNode.First(node.Outputs) })
        {
            if (candidate.Length is > 0 and <= 200 && !_names.Contains(candidate))
                return candidate;
        }
        for (int i = _layers.Count; ; i++)
        {
            if (!_names.Contains($"{node.OpType}_{i}"))
                return $"{node.OpType}_{i}";
        }
    }
}
