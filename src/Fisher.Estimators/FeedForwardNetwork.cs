using TorchSharp;
using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// A sequential stack of Linear layers with element-wise activations between them; the last layer is linear and
/// produces the natural parameters of the output distribution (estimators.md §1.1, §9.1). Parameters are named
/// as in a PyTorch <c>nn.Sequential</c> (<c>0.weight</c>, <c>0.bias</c>, <c>2.weight</c>, ...). The network owns
/// detached copies of its weights; dispose it to free them.
/// </summary>
public sealed class FeedForwardNetwork : IDisposable
{
    private readonly LinearLayer[] _layers;
    private readonly Activation[] _activations;

    private FeedForwardNetwork(LinearLayer[] layers, Activation[] activations, ScalarType dtype)
    {
        _layers = layers;
        _activations = activations;
        DType = dtype;
        Layout = new ParameterLayout(layers);
    }

    /// <summary>The Linear layers, input to output.</summary>
    public IReadOnlyList<LinearLayer> Layers => _layers;

    /// <summary>The activations after every Linear layer but the last (one fewer than layers).</summary>
    public IReadOnlyList<Activation> Activations => _activations;

    /// <summary>float32 or float64: the dtype all computation runs in.</summary>
    public ScalarType DType { get; }

    /// <summary>Width of the input.</summary>
    public int InputWidth => _layers[0].InputWidth;

    /// <summary>Width of the output (number of natural parameters).</summary>
    public int OutputWidth => _layers[^1].OutputWidth;

    /// <summary>Every parameter tensor with its name, layer and shape.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>
    /// Builds a network from weights (out x in) and biases per layer, copying them. Names default to the
    /// <c>nn.Sequential</c> convention with an activation module after every hidden Linear (0, 2, 4, ...).
    /// </summary>
    public static FeedForwardNetwork FromTensors(
        IReadOnlyList<Tensor> weights, IReadOnlyList<Tensor> biases, IReadOnlyList<Activation> activations,
        IReadOnlyList<string>? layerNames = null, ScalarType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(biases);
        ArgumentNullException.ThrowIfNull(activations);
        if (weights.Count == 0)
            throw new InvalidNetworkException("a network needs at least one Linear layer");
        if (biases.Count != weights.Count)
            throw new InvalidNetworkException($"{weights.Count} weights but {biases.Count} biases");
        if (activations.Count != weights.Count - 1)
            throw new InvalidNetworkException($"{weights.Count} Linear layers need {weights.Count - 1} activations between them, got {activations.Count}; the last layer must be linear");
        var names = layerNames ?? Enumerable.Range(0, weights.Count).Select(i => (2 * i).ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (names.Count != weights.Count || names.Distinct().Count() != names.Count)
            throw new InvalidNetworkException("layer names must be distinct, one per Linear layer");
        var type = dtype ?? weights[0].dtype;
        if (type is not (ScalarType.Float32 or ScalarType.Float64))
            throw new InvalidNetworkException($"dtype {type} is not supported; expected float32 or float64");

        var layers = new LinearLayer[weights.Count];
        try
        {
            for (int l = 0; l < weights.Count; l++)
            {
                var w = weights[l];
                var b = biases[l];
                if (w.dim() != 2)
                    throw new InvalidNetworkException($"{names[l]}.weight: expected a matrix (out x in), got shape [{string.Join(", ", w.shape)}]");
                if (b.dim() != 1 || b.shape[0] != w.shape[0])
                    throw new InvalidNetworkException($"{names[l]}.bias: expected shape [{w.shape[0]}], got [{string.Join(", ", b.shape)}]");
                if (l > 0 && w.shape[1] != weights[l - 1].shape[0])
                    throw new InvalidNetworkException($"{names[l]}.weight: expects {w.shape[1]} inputs but layer {names[l - 1]} has {weights[l - 1].shape[0]} outputs");
                if (!w.isfinite().all().item<bool>() || !b.isfinite().all().item<bool>())
                    throw new InvalidNetworkException($"layer {names[l]}: weights or bias contain NaN or infinity");
                layers[l] = new LinearLayer(names[l], Own(w, type), Own(b, type));
            }
        }
        catch
        {
            foreach (var layer in layers)
                layer?.Dispose();
            throw;
        }
        return new FeedForwardNetwork(layers, activations.ToArray(), type);
    }

    /// <summary>
    /// Builds a network from a TorchSharp <c>nn.Sequential</c> of Linear and activation modules, copying its
    /// parameters. Any other module kind throws <see cref="UnsupportedLayerException"/> naming the module.
    /// </summary>
    public static FeedForwardNetwork FromSequential(nn.Module<Tensor, Tensor> sequential)
    {
        ArgumentNullException.ThrowIfNull(sequential);
        var weights = new List<Tensor>();
        var biases = new List<Tensor>();
        var names = new List<string>();
        var activations = new List<Activation>();
        Activation? pending = null;
        foreach (var (name, module) in sequential.named_children())
        {
            switch (module)
            {
                case TorchSharp.Modules.Linear linear:
                    if (weights.Count > 0)
                    {
                        activations.Add(pending ?? Activation.Identity);
                    }
                    else if (pending is not null)
                    {
                        throw new UnsupportedLayerException(name, "Linear after an input activation (the first module must be Linear)");
                    }
                    pending = null;
                    weights.Add(linear.weight!);
                    biases.Add(linear.bias ?? throw new InvalidNetworkException($"layer '{name}': Linear without bias is not supported"));
                    names.Add(name);
                    break;
                default:
                    var activation = ActivationOf(name, module);
                    if (pending is not null && pending.Kind != ActivationKind.Identity && activation.Kind != ActivationKind.Identity)
                        throw new UnsupportedLayerException(name, "second activation in a row");
                    if (pending is null || pending.Kind == ActivationKind.Identity)
                        pending = activation;
                    break;
            }
        }
        if (weights.Count == 0)
            throw new InvalidNetworkException("the Sequential holds no Linear layer");
        if (pending is not null && pending.Kind != ActivationKind.Identity)
            throw new InvalidNetworkException($"the last module is an activation ({pending.Name}); the output layer must be Linear, producing the natural parameters");
        return FromTensors(weights, biases, activations, names);
    }

    /// <summary>
    /// A randomly initialised network (PyTorch's default: uniform in ±1/√fan_in) from layer widths, with one hidden
    /// activation for all hidden layers; reproducible from <paramref name="seed"/>.
    /// </summary>
    public static FeedForwardNetwork CreateRandom(IReadOnlyList<int> widths, Activation hidden, ScalarType dtype, long seed, double scale = 1.0)
    {
        ArgumentNullException.ThrowIfNull(widths);
        if (widths.Count < 2)
            throw new InvalidNetworkException("widths must list the input width and at least one layer width");
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var weights = new List<Tensor>();
        var biases = new List<Tensor>();
        for (int l = 1; l < widths.Count; l++)
        {
            double bound = scale / Math.Sqrt(widths[l - 1]);
            weights.Add((rand(new long[] { widths[l], widths[l - 1] }, dtype: ScalarType.Float64, generator: generator) * 2 - 1) * bound);
            biases.Add((rand(new long[] { widths[l] }, dtype: ScalarType.Float64, generator: generator) * 2 - 1) * bound);
        }
        var activations = Enumerable.Repeat(hidden, widths.Count - 2).ToArray();
        return FromTensors(weights, biases, activations, dtype: dtype);
    }

    /// <summary>The network output f(x) (natural parameters) for a batch of inputs; a fresh tensor.</summary>
    public Tensor Forward(Tensor inputs)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var a = inputs.to(DType);
        for (int l = 0; l < _layers.Length; l++)
        {
            a = _layers[l].Apply(a);
            if (l < _activations.Length)
                a = _activations[l].Evaluate(a, withSecond: false).Value;
        }
        return a.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Copies of the weights and biases in <see cref="Layout"/> order (per layer its weight, then its bias) as leaf
    /// parameters that require grad, for an optimiser to train by autograd with <see cref="Forward(Tensor, IReadOnlyList{Tensor})"/>.
    /// The network's own tensors stay detached, so its other passes record no graph. The caller owns the copies.
    /// </summary>
    public TorchSharp.Modules.Parameter[] TrainableParameters()
    {
        var parameters = new TorchSharp.Modules.Parameter[2 * _layers.Length];
        for (int l = 0; l < _layers.Length; l++)
        {
            parameters[2 * l] = Trainable(_layers[l].Weight);
            parameters[2 * l + 1] = Trainable(_layers[l].Bias);
        }
        return parameters;
    }

    /// <summary>
    /// f(x) with <paramref name="parameters"/> (as from <see cref="TrainableParameters"/>) in place of the network's own
    /// weights and biases, recording the autograd graph unless grad mode is off. The inputs must be in <see cref="DType"/>;
    /// the result lives in the caller's dispose scope.
    /// </summary>
    public Tensor Forward(Tensor inputs, IReadOnlyList<Tensor> parameters)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count != 2 * _layers.Length)
            throw new ArgumentException($"expected {2 * _layers.Length} parameter tensors (weight and bias per layer), got {parameters.Count}", nameof(parameters));
        var a = inputs;
        for (int l = 0; l < _layers.Length; l++)
        {
            a = nn.functional.linear(a, parameters[2 * l], parameters[2 * l + 1]);
            if (l < _activations.Length)
                a = _activations[l].Evaluate(a, withSecond: false).Value;
        }
        return a;
    }

    /// <summary>A copy of this network in another dtype.</summary>
    public FeedForwardNetwork To(ScalarType dtype) =>
        FromTensors(_layers.Select(l => l.Weight).ToArray(), _layers.Select(l => l.Bias).ToArray(), _activations, _layers.Select(l => l.Name).ToArray(), dtype);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var layer in _layers)
            layer.Dispose();
    }

    private static Tensor Own(Tensor t, ScalarType dtype)
    {
        using var noGrad = no_grad();
        return t.detach().to(dtype).clone().contiguous().DetachFromDisposeScope();
    }

    private static TorchSharp.Modules.Parameter Trainable(Tensor t)
    {
        using var noGrad = no_grad();
        using var detached = t.detach();
        var parameter = new TorchSharp.Modules.Parameter(detached.clone(), requires_grad: true);
        parameter.DetachFromDisposeScope(); // owned by the caller, like the network's own tensors
        return parameter;
    }

    private static Activation ActivationOf(string name, nn.Module module) => module switch
    {
        TorchSharp.Modules.ReLU => Activation.Relu,
        TorchSharp.Modules.Tanh => Activation.Tanh,
        TorchSharp.Modules.Sigmoid => Activation.Sigmoid,
        // Softplus with β = 1; PyTorch's switch to the identity above its threshold changes values by < e^−threshold.
        TorchSharp.Modules.Softplus { beta: 1.0 } => Activation.Softplus,
        TorchSharp.Modules.Softplus softplus => throw new UnsupportedLayerException(name, $"Softplus with beta {softplus.beta} (only beta = 1 has a rule)"),
        TorchSharp.Modules.GELU { approximate: TorchSharp.Modules.GELU.Approximate.none } => Activation.Gelu,
        TorchSharp.Modules.GELU gelu => throw new UnsupportedLayerException(name, $"GELU with the '{gelu.approximate}' approximation (only the exact GELU has a rule)"),
        TorchSharp.Modules.SiLU => Activation.Silu,
        TorchSharp.Modules.LeakyReLU leaky => Activation.LeakyRelu(leaky.negative_slope),
        TorchSharp.Modules.ELU elu => Activation.Elu(elu.alpha),
        TorchSharp.Modules.Identity => Activation.Identity,
        _ => throw new UnsupportedLayerException(name, module.GetType().Name),
    };
}
