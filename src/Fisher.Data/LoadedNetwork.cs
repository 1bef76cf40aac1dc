using Fisher.Estimators;
using Fisher.Estimators.Graph;
using static TorchSharp.torch;

namespace Fisher.Data;

/// <summary>
/// A network loaded for a job, in either form of its architecture: a feed-forward network (the fused fast path, also
/// for a graph that <see cref="LayerGraph.AsFeedForward"/> turns into an MLP) or a layer graph. The one place that
/// decides which path runs and how per-layer groups are named. Dispose it to free the tensors.
/// </summary>
public sealed class LoadedNetwork : IDisposable
{
    private readonly FeedForwardNetwork? _mlp;
    private readonly LayerGraph? _graph;

    private LoadedNetwork(FeedForwardNetwork? mlp, LayerGraph? graph, IReadOnlyList<long> inputShape, ModelArchitecture architecture)
    {
        _mlp = mlp;
        _graph = graph;
        Architecture = architecture;
        InputShape = inputShape;
        InputSize = inputShape.Aggregate(1L, (a, b) => checked(a * b));
    }

    /// <summary>
    /// Loads <paramref name="weightsPath"/> onto <paramref name="architecture"/> in <paramref name="dtype"/>: a state_dict
    /// or safetensors file onto the layers the architecture describes (<see cref="ModelLoader"/>'s errors), or, for the
    /// head form, the ONNX model the file is (<see cref="OnnxModel.Read"/>'s errors). Pair them with <see cref="ModelSource"/>.
    /// </summary>
    public static LoadedNetwork Load(ModelArchitecture architecture, string weightsPath, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        if (architecture.IsFeedForward)
        {
            var network = ModelLoader.Load(architecture, weightsPath, dtype);
            return new LoadedNetwork(network, null, [network.InputWidth], architecture);
        }
        if (architecture.IsHead)
            return LoadOnnx(architecture, weightsPath, dtype);
        return FromGraph(ModelLoader.LoadGraph(architecture, weightsPath, dtype), architecture);
    }

    private static LoadedNetwork LoadOnnx(ModelArchitecture head, string path, ScalarType dtype)
    {
        using var model = OnnxModel.Read(path);
        LayerGraph graph;
        try
        {
            graph = LayerGraph.Build(model.Spec, model.Tensors, dtype);
        }
        catch (Exception e) when (e is InvalidNetworkException or UnsupportedLayerException)
        {
            throw new DataFormatException(path, e.Message, e);
        }
        return FromGraph(graph, head with { Graph = model.Spec });
    }

    /// <summary>The fused path when <see cref="LayerGraph.AsFeedForward"/> allows (the graph is then disposed), else the graph.</summary>
    private static LoadedNetwork FromGraph(LayerGraph graph, ModelArchitecture used)
    {
        var mlp = graph.AsFeedForward();
        if (mlp is null)
            return new LoadedNetwork(null, graph, graph.InputShape, used);
        var shape = graph.InputShape;
        graph.Dispose();
        return new LoadedNetwork(mlp, null, shape, used);
    }

    /// <summary>
    /// The architecture as used: the one given, or for an ONNX model its head with the graph read from the file (what
    /// summary.json records).
    /// </summary>
    public ModelArchitecture Architecture { get; }

    /// <summary>True when the fused feed-forward path runs (per-layer groups are then <c>layer{i}</c>).</summary>
    public bool IsFeedForward => _mlp is not null;

    /// <summary>The layer graph, when the network is not an MLP; else null.</summary>
    public LayerGraph? Graph => _graph;

    /// <summary>The per-sample input shape ([features] for an MLP).</summary>
    public IReadOnlyList<long> InputShape { get; }

    /// <summary>Values per input sample.</summary>
    public long InputSize { get; }

    /// <summary>Width of the network output f.</summary>
    public int OutputWidth => _mlp?.OutputWidth ?? _graph!.OutputWidth;

    /// <summary>Every parameter tensor with its name, layer and shape.</summary>
    public ParameterLayout Layout => _mlp?.Layout ?? _graph!.Layout;

    /// <summary>
    /// The groups of <paramref name="grouping"/>. Per-layer groups are <c>layer{i}</c> for an MLP (as results always
    /// were) and the layer's module name for other graphs (<c>conv1</c>, <c>layer1.0.bn2</c>).
    /// </summary>
    public IReadOnlyList<ParameterGroup> Groups(Grouping grouping)
    {
        var groups = Layout.Groups(grouping);
        if (_mlp is not null || grouping != Grouping.PerLayer)
            return groups;
        return groups.Select(g => g with { Name = Layout.LayerNames[g.LowestLayer] }).ToArray();
    }

    /// <summary>The estimator of this network.</summary>
    public FisherEstimator CreateEstimator(Likelihood likelihood, EstimatorOptions options) =>
        _mlp is not null ? new FisherEstimator(_mlp, likelihood, options) : new FisherEstimator(_graph!, likelihood, options);

    /// <summary>Every parameter's shape by name.</summary>
    public IReadOnlyDictionary<string, long[]> ParameterShapes() =>
        Layout.Parameters.ToDictionary(p => p.Name, p => p.Shape.ToArray(), StringComparer.Ordinal);

    /// <inheritdoc />
    public void Dispose()
    {
        _mlp?.Dispose();
        _graph?.Dispose();
    }
}
