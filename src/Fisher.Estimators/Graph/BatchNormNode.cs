using static TorchSharp.torch;

namespace Fisher.Estimators.Graph;

/// <summary>
/// BatchNorm1d/2d in evaluation mode: z = γ x̂ + β with x̂ = (x − μ)/√(σ² + ε) from the running statistics, per channel
/// (dimension 1). Affine in its input with the diagonal Jacobian γ/√(σ² + ε), and affine in (γ, β) with the
/// coefficients x̂ and 1 shared over a channel's positions: the per-sample gradient of γ_c is Σ_p g_cp x̂_cp, and a
/// diagonal curvature r gives Σ_p r_cp x̂_cp² (§9.7).
/// </summary>
internal sealed class BatchNormNode : GraphNode
{
    private readonly NodeParameter[] _parameters;
    private readonly Tensor _mean;   // (C, 1, ...) broadcast over positions
    private readonly Tensor _scale;  // 1/√(σ² + ε)
    private readonly Tensor _gain;   // γ/√(σ² + ε), the Jacobian
    private readonly Tensor _shift;  // β − μ·gain
    private readonly long[] _channelShape;

    private BatchNormNode(LayerSpec spec, int[] inputs, long[] shape, Tensor? weight, Tensor? bias, Tensor mean, Tensor variance)
        : base(spec, inputs, shape)
    {
        _channelShape = [shape[0], .. Enumerable.Repeat(1L, shape.Length - 1)];
        _mean = mean.reshape(_channelShape).DetachFromDisposeScope();
        using (var scope = NewDisposeScope())
        {
            _scale = variance.Plus(spec.Epsilon).rsqrt().reshape(_channelShape).MoveToOuterDisposeScope();
            _gain = (weight is null ? _scale.clone() : _scale.mul(weight.reshape(_channelShape))).MoveToOuterDisposeScope();
            var shift = _mean.mul(_gain).neg();
            _shift = (bias is null ? shift : shift.Plus(bias.reshape(_channelShape))).MoveToOuterDisposeScope();
        }
        _scale.DetachFromDisposeScope();
        _gain.DetachFromDisposeScope();
        _shift.DetachFromDisposeScope();
        mean.Dispose();
        variance.Dispose();
        var list = new List<NodeParameter>();
        if (weight is not null)
            list.Add(new("weight", spec.TensorName("weight"), ParameterKind.Weight, weight));
        if (bias is not null)
            list.Add(new("bias", spec.TensorName("bias"), ParameterKind.Bias, bias));
        _parameters = [.. list];
    }

    public static GraphNode Create(LayerSpec spec, int[] inputs, long[][] inputShapes, TensorSource tensors)
    {
        var shape = inputShapes[0];
        if (!(spec.Epsilon > 0 && spec.Epsilon < 1))
            throw new InvalidNetworkException($"layer '{spec.Name}': epsilon {spec.Epsilon} must lie in (0, 1)");
        long channels = shape[0];
        var taken = new List<Tensor>();
        try
        {
            Tensor Take(string role)
            {
                var t = TensorSource.Expect(tensors.Take(spec, role, required: true)!, spec, role, channels);
                taken.Add(t);
                return t;
            }
            var mean = Take("running_mean");
            var variance = Take("running_var");
            if (variance.lt(TensorMath.C(0, variance.dtype)).any().item<bool>())
                throw new InvalidNetworkException($"tensor '{spec.TensorName("running_var")}': contains negative variances");
            var weight = spec.Bias ? Take("weight") : null;
            var bias = spec.Bias ? Take("bias") : null;
            return new BatchNormNode(spec, inputs, shape, weight, bias, mean, variance);
        }
        catch
        {
            foreach (var t in taken)
                t.Dispose();
            throw;
        }
    }

    public override IReadOnlyList<NodeParameter> Parameters => _parameters;

    public override bool SampleFree => true;

    public override bool Elementwise => true;

    public override long TraceElements => 2 * OutputSize; // x̂ and x̂², when γ's rows are made

    /// <summary>z = x · gain + shift, one fused multiply-add; x̂ is made from the saved input only when γ's rows are.</summary>
    public override NodeTrace Forward(Tensor[] inputs, bool withSecond) =>
        new(addcmul(_shift, inputs[0], _gain, TensorMath.One)) { Input = inputs[0] };

    /// <summary>x̂ = (x − μ)/√(σ² + ε) of the trace, once.</summary>
    private Tensor Normalised(NodeTrace trace) => trace.Cached(() => trace.Input!.Minus(_mean).mul(_scale));

    /// <summary>x̂², once.</summary>
    private Tensor NormalisedSquared(NodeTrace trace) => trace.CachedSquare(() => trace.Input!.Minus(_mean).mul(_scale));

    public override Tensor[] Backward(NodeTrace trace, Tensor g) => [g.mul(_gain)];

    public override Tensor? SquaredDiagonal(NodeTrace trace, int input) => _gain.Sq();

    public override Tensor ParameterGradient(NodeTrace trace, int parameter, Tensor g) =>
        PositionSum(parameter == 0 ? g.mul(Normalised(trace).unsqueeze(1)) : g);

    public override Tensor SquaredParameterGradient(NodeTrace trace, int parameter, Tensor r) =>
        PositionSum(parameter == 0 ? r.mul(NormalisedSquared(trace).unsqueeze(1)) : r);

    private Tensor PositionSum(Tensor g) =>
        OutputShape.Length == 1 ? g.clone() : g.reshape(g.shape[0], g.shape[1], OutputShape[0], -1).sum(3);

    public override void Dispose()
    {
        _mean.Dispose();
        _scale.Dispose();
        _gain.Dispose();
        _shift.Dispose();
        base.Dispose();
    }
}
