using static TorchSharp.torch;

namespace Fisher.Estimators.Graph;

/// <summary>
/// The rule of one layer kind (docs/estimators.md §9.7): its forward map, the pull-back of a batch of streams
/// (vector–Jacobian products, (batch, streams, *shape)), and, when the layer has parameters, the per-sample
/// parameter gradients of streams and the per-sample "squared" gradients Σ_u r_u (∂z_u/∂θ_i)² that turn a diagonal
/// residual curvature r at the layer's output into Hessian-diagonal rows. Element-wise layers (activations,
/// BatchNorm, Add, Identity) also give the square of their diagonal Jacobian, through which a diagonal curvature
/// passes unchanged in form. A new layer kind is a subclass plus a line in <see cref="LayerRules"/>.
/// </summary>
internal abstract class GraphNode : IDisposable
{
    protected GraphNode(LayerSpec spec, int[] inputs, long[] outputShape)
    {
        Spec = spec;
        Inputs = inputs;
        OutputShape = outputShape;
        OutputSize = outputShape.Aggregate(1L, (a, b) => checked(a * b));
    }

    public LayerSpec Spec { get; }

    public string Name => Spec.Name;

    /// <summary>Indices of the nodes this one reads; −1 is the network input.</summary>
    public int[] Inputs { get; }

    /// <summary>Per-sample output shape.</summary>
    public long[] OutputShape { get; }

    /// <summary>Per-sample output elements.</summary>
    public long OutputSize { get; }

    /// <summary>The parameter tensors (weight first), in the network dtype; empty for layers without parameters.</summary>
    public virtual IReadOnlyList<NodeParameter> Parameters => [];

    /// <summary>
    /// True for Linear: a parameter's per-sample values are per-unit values times a power of the layer input, summed by
    /// Gram products (§9.5) instead of per-parameter rows.
    /// </summary>
    public virtual bool Factored => false;

    /// <summary>
    /// True when the pull-back is the same linear map for every sample (no saved input enters it), so streams that are
    /// the same for every sample may pass it with a batch dimension of 1.
    /// </summary>
    public virtual bool SampleFree => false;

    /// <summary>True when the Jacobian with respect to every input is diagonal (element-wise layers).</summary>
    public virtual bool Elementwise => false;

    /// <summary>Runs the layer on (batch, *shape) inputs; the trace keeps what the backward rules need.</summary>
    public abstract NodeTrace Forward(Tensor[] inputs, bool withSecond);

    /// <summary>The pull-back of streams g (batch, S, *output) to each input, (batch, S, *input).</summary>
    public abstract Tensor[] Backward(NodeTrace trace, Tensor g);

    /// <summary>
    /// For element-wise layers, the square of the diagonal Jacobian with respect to input <paramref name="input"/>,
    /// broadcastable to (batch, S, *output); null means 1 (Add, Identity).
    /// </summary>
    public virtual Tensor? SquaredDiagonal(NodeTrace trace, int input) =>
        throw new InvalidOperationException($"layer '{Name}' is not element-wise");

    /// <summary>σ''(input) for curved activations, (batch, *shape); null where the layer is affine in its input.</summary>
    public virtual Tensor? Curvature(NodeTrace trace) => null;

    /// <summary>Per-sample gradients of parameter <paramref name="parameter"/> for streams g (batch, S, *output): (batch, S, P).</summary>
    public virtual Tensor ParameterGradient(NodeTrace trace, int parameter, Tensor g) =>
        throw new InvalidOperationException($"layer '{Name}' has no parameters");

    /// <summary>Σ_u r_u (∂z_u/∂θ_i)² per sample and stream for a diagonal curvature r (batch, S, *output): (batch, S, P).</summary>
    public virtual Tensor SquaredParameterGradient(NodeTrace trace, int parameter, Tensor r) =>
        throw new InvalidOperationException($"layer '{Name}' has no parameters");

    /// <summary>Elements per sample the forward trace keeps besides the output (derivatives, indices, unfolded inputs).</summary>
    public virtual long TraceElements => 0;

    /// <summary>Multiply-adds per sample and stream of <see cref="Backward"/> (the planner's cost model).</summary>
    public virtual long BackwardCost => OutputSize;

    /// <summary>Multiply-adds per sample and stream of the parameter gradients.</summary>
    public virtual long ParameterGradientCost => Parameters.Sum(p => p.Tensor.numel());

    /// <inheritdoc />
    public virtual void Dispose()
    {
        foreach (var p in Parameters)
            p.Tensor.Dispose();
    }
}

/// <summary>A parameter tensor of a node: its role (<c>weight</c>, <c>bias</c>), PyTorch name, kind and tensor.</summary>
internal sealed record NodeParameter(string Role, string Name, ParameterKind Kind, Tensor Tensor);

/// <summary>
/// What one forward pass of a node keeps for the backward rules. Its tensors live in the batch's dispose scope,
/// except the cached ones, which are created later (possibly inside an inner scope), kept out of every scope and
/// freed by <see cref="Dispose"/>.
/// </summary>
internal sealed class NodeTrace(Tensor output) : IDisposable
{
    public Tensor Output { get; } = output;

    /// <summary>The (first) input, for layers whose gradients read it.</summary>
    public Tensor? Input { get; init; }

    /// <summary>σ' (activations), the normalised input x̂ (BatchNorm), the argmax indices (max pooling).</summary>
    public Tensor? Saved { get; init; }

    /// <summary>σ'' of a curved activation.</summary>
    public Tensor? Second { get; init; }

    /// <summary>A lazily computed derived tensor (the unfolded input of a convolution), outside every dispose scope.</summary>
    public Tensor? Cache { get; private set; }

    /// <summary>Its square.</summary>
    public Tensor? CacheSquared { get; private set; }

    /// <summary>The cached tensor, made by <paramref name="make"/> on first use.</summary>
    public Tensor Cached(Func<Tensor> make) => Cache ??= make().DetachFromDisposeScope();

    /// <summary>The square of the cached tensor, made on first use.</summary>
    public Tensor CachedSquare(Func<Tensor> make) => CacheSquared ??= Cached(make).Sq().DetachFromDisposeScope();

    public void Dispose()
    {
        Cache?.Dispose();
        CacheSquared?.Dispose();
    }
}
