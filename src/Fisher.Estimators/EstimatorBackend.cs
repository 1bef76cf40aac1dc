using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// What the estimator needs from a network kind: input checks, the forward pass of a batch, and the backward passes
/// over streams. The MLP backend runs the fused Linear path of §9.5 and §9.5b (<see cref="StreamBackward"/>); the graph
/// backend runs one rule per layer (Graph.GraphPasses, §9.7).
/// </summary>
internal interface IEstimatorBackend
{
    ScalarType DType { get; }

    int OutputWidth { get; }

    /// <summary>The name of the layer that produces f, for messages.</summary>
    string OutputLayer { get; }

    /// <summary>True when some activation has σ'' ≠ 0: only then is there residual curvature.</summary>
    bool Smooth { get; }

    /// <summary>Checks the shape of a batch and returns it in the network's shape and dtype.</summary>
    Tensor Prepare(Tensor inputs);

    /// <summary>How many inputs of a batch one pass may hold (the batch itself for the MLP path).</summary>
    long MicroBatch(long batch, int streams, bool residual);

    /// <summary>The forward pass of (already prepared) inputs.</summary>
    IBatchRun Start(Tensor x, bool withSecond);
}

/// <summary>The forward pass of one batch with its backward passes and the moment targets that read them.</summary>
internal interface IBatchRun : IDisposable
{
    /// <summary>f, (batch, outputs).</summary>
    Tensor Output { get; }

    /// <summary>
    /// The pass over the identity streams e_o, or e_o − w with centring weights w (batch, outputs): the Jacobian rows.
    /// </summary>
    IStreamRows Jacobian(Tensor? centering, bool withResidual);

    /// <summary>The pass over streams (batch, S, outputs).</summary>
    IStreamRows Streams(Tensor top, bool withResidual);

    /// <summary>Where the rows of each requested parameter tensor (or factored layer) go.</summary>
    IReadOnlyList<MomentTarget> Targets { get; }
}

/// <summary>Rows of one backward pass: first-order and Hessian-diagonal rows (batch, S, width) of a target.</summary>
internal interface IStreamRows
{
    Tensor? First(in MomentTarget target);

    /// <summary>Null where the network is affine in the target (no residual curvature).</summary>
    Tensor? Residual(in MomentTarget target);
}

/// <summary>
/// One set of rows and the parameters they feed: a factored layer (unit rows; weight values are unit values times a
/// power of <see cref="Input"/>, summed by Gram products, §9.5) or one parameter tensor whose rows hold per-parameter
/// values (<see cref="Elements"/>: summed over the batch).
/// </summary>
internal readonly record struct MomentTarget(int Node, int Part, ParameterInfo? Weight, ParameterInfo? Bias, Tensor? Input, bool Elements);

/// <summary>The fused path for chains of Linear layers (<see cref="FeedForwardNetwork"/>).</summary>
internal sealed class MlpBackend : IEstimatorBackend
{
    private readonly FeedForwardNetwork _network;
    private readonly ParameterInfo?[] _weights;
    private readonly ParameterInfo?[] _biases;
    private readonly int _lowest;

    public MlpBackend(FeedForwardNetwork network, IEnumerable<string> parameters)
    {
        _network = network;
        int layers = network.Layers.Count;
        _weights = new ParameterInfo?[layers];
        _biases = new ParameterInfo?[layers];
        foreach (var name in parameters)
        {
            var info = network.Layout[name];
            if (info.Kind == ParameterKind.Weight)
                _weights[info.LayerIndex] = info;
            else
                _biases[info.LayerIndex] = info;
        }
        _lowest = Enumerable.Range(0, layers).First(l => _weights[l] is not null || _biases[l] is not null);
    }

    public ScalarType DType => _network.DType;

    public int OutputWidth => _network.OutputWidth;

    public string OutputLayer => _network.Layers[^1].Name;

    public bool Smooth => _network.Activations.Any(a => !a.IsPiecewiseLinear);

    public long MicroBatch(long batch, int streams, bool residual) => batch;

    public Tensor Prepare(Tensor inputs)
    {
        if (inputs.dim() != 2 || inputs.shape[1] != _network.InputWidth)
            throw new InvalidBatchException("inputs", $"expected shape [batch, {_network.InputWidth}] for the network's first layer '{_network.Layers[0].Name}', got [{string.Join(", ", inputs.shape)}]");
        return inputs;
    }

    public IBatchRun Start(Tensor x, bool withSecond)
    {
        var trace = ForwardTrace.Run(_network, x, withSecond);
        var targets = new List<MomentTarget>();
        for (int l = _lowest; l < _network.Layers.Count; l++)
        {
            if (_weights[l] is not null || _biases[l] is not null)
                targets.Add(new MomentTarget(l, 0, _weights[l], _biases[l], trace.LayerInputs[l], Elements: false));
        }
        return new Run(trace, _lowest, targets);
    }

    private sealed class Run(ForwardTrace trace, int lowest, IReadOnlyList<MomentTarget> targets) : IBatchRun
    {
        public Tensor Output => trace.Output;

        public IReadOnlyList<MomentTarget> Targets => targets;

        public IStreamRows Jacobian(Tensor? centering, bool withResidual) => new Rows(StreamBackward.RunJacobian(trace, centering, withResidual, lowest));

        public IStreamRows Streams(Tensor top, bool withResidual) => new Rows(StreamBackward.Run(trace, top, withResidual, lowest));

        public void Dispose()
        {
        }
    }

    private sealed class Rows(StreamBackward pass) : IStreamRows
    {
        public Tensor? First(in MomentTarget target) => pass.FirstOrder[target.Node];

        public Tensor? Residual(in MomentTarget target) => pass.Residual[target.Node];
    }
}
