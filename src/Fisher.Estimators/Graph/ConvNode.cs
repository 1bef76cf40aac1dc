using static TorchSharp.torch;

namespace Fisher.Estimators.Graph;

/// <summary>
/// Conv1d and Conv2d with stride, padding, dilation, groups and an optional bias; Conv1d runs as Conv2d of height 1.
/// The convolution is linear in its input unfolded to U (rows: input channel × kernel offset, columns: output
/// positions), z = W U + b 1ᵀ per group (docs/estimators.md §9.7), so the per-sample weight gradient of a stream g is
/// g Uᵀ (one batched product), and Σ_p r_p (∂z_p/∂W)² is r (U∘2)ᵀ: the same product with the squared columns.
/// </summary>
internal sealed class ConvNode : GraphNode
{
    private readonly NodeParameter[] _parameters;
    private readonly Spatial _s;
    private readonly long[] _inputShape;   // (C, H, W), H = 1 for Conv1d
    private readonly long[] _outputPlane;  // (Ho, Wo)
    private readonly long _groups;
    private readonly bool _oneDimensional;
    private readonly Tensor _weight4;       // (Cout, Cin/g, kh, kw)

    private ConvNode(LayerSpec spec, int[] inputs, long[] outputShape, Tensor weight, Tensor? bias, Spatial s, long[] inputShape, long[] outputPlane, bool oneDimensional)
        : base(spec, inputs, outputShape)
    {
        _s = s;
        _inputShape = inputShape;
        _outputPlane = outputPlane;
        _groups = spec.Groups;
        _oneDimensional = oneDimensional;
        _weight4 = oneDimensional ? weight.unsqueeze(2).DetachFromDisposeScope() : weight.alias().DetachFromDisposeScope();
        var list = new List<NodeParameter> { new("weight", spec.TensorName("weight"), ParameterKind.Weight, weight) };
        if (bias is not null)
            list.Add(new("bias", spec.TensorName("bias"), ParameterKind.Bias, bias));
        _parameters = [.. list];
    }

    public static GraphNode Create(LayerSpec spec, int[] inputs, long[][] inputShapes, TensorSource tensors)
    {
        bool one = spec.Op == LayerOp.Conv1d;
        int dims = one ? 1 : 2;
        var input = inputShapes[0];
        if (input.Length != dims + 1)
            throw new InvalidNetworkException($"layer '{spec.Name}': {spec.Op} needs per-sample input (channels, {(one ? "length" : "height, width")}), got [{string.Join(", ", input)}]");
        if (spec.Groups < 1 || input[0] % spec.Groups != 0)
            throw new InvalidNetworkException($"layer '{spec.Name}': groups {spec.Groups} must divide the {input[0]} input channels");
        var weight = tensors.Take(spec, "weight", required: true)!;
        try
        {
            if (weight.dim() != dims + 2 || weight.shape[1] != input[0] / spec.Groups || weight.shape[0] % spec.Groups != 0)
                throw new InvalidNetworkException($"tensor '{spec.TensorName("weight")}': expected shape [out, {input[0] / spec.Groups}{(one ? ", k" : ", kh, kw")}] with out divisible by groups {spec.Groups}, got [{string.Join(", ", weight.shape)}]");
            long[] kernel = one ? [1, weight.shape[2]] : [weight.shape[2], weight.shape[3]];
            var declared = Spatial.Read(spec, "kernel", spec.Kernel, kernel, dims, 1);
            if (!declared.SequenceEqual(kernel))
                throw new InvalidNetworkException($"layer '{spec.Name}': kernel [{string.Join(", ", spec.Kernel!)}] differs from the weight's [{string.Join(", ", weight.shape.Skip(2))}]");
            var s = new Spatial(kernel, Spatial.Read(spec, "stride", spec.Stride, [1, 1], dims, 1),
                Spatial.Read(spec, "padding", spec.Padding, [0, 0], dims, 0), Spatial.Read(spec, "dilation", spec.Dilation, [1, 1], dims, 1));
            long[] plane = one ? [1, input[1]] : [input[1], input[2]];
            var outPlane = Spatial.Output(spec, plane, s);
            Tensor? bias = spec.Bias ? TensorSource.Expect(tensors.Take(spec, "bias", required: true)!, spec, "bias", weight.shape[0]) : null;
            long[] outputShape = one ? [weight.shape[0], outPlane[1]] : [weight.shape[0], outPlane[0], outPlane[1]];
            return new ConvNode(spec, inputs, outputShape, weight, bias, s, [input[0], plane[0], plane[1]], outPlane, one);
        }
        catch
        {
            weight.Dispose();
            throw;
        }
    }

    public override IReadOnlyList<NodeParameter> Parameters => _parameters;

    public override bool SampleFree => true;

    private long Positions => _outputPlane[0] * _outputPlane[1];

    private long InPerGroup => _inputShape[0] / _groups * _s.Kernel[0] * _s.Kernel[1];

    public override long BackwardCost => _weight4.shape[0] * InPerGroup * Positions;

    public override long ParameterGradientCost => BackwardCost + (_parameters.Length > 1 ? OutputSize : 0);

    public override NodeTrace Forward(Tensor[] inputs, bool withSecond)
    {
        var x = inputs[0];
        var x4 = _oneDimensional ? x.unsqueeze(2) : x;
        var z = nn.functional.conv2d(x4, _weight4, _parameters.Length > 1 ? _parameters[1].Tensor : null, _s.Stride, _s.Padding, _s.Dilation, _groups);
        return new NodeTrace(_oneDimensional ? z.squeeze(2) : z) { Input = x4 };
    }

    public override Tensor[] Backward(NodeTrace trace, Tensor g)
    {
        long batch = g.shape[0], streams = g.shape[1];
        var flat = g.reshape(batch * streams, _weight4.shape[0], _outputPlane[0], _outputPlane[1]);
        var outputPadding = new long[2];
        for (int i = 0; i < 2; i++)
            outputPadding[i] = _inputShape[i + 1] + 2 * _s.Padding[i] - _s.Dilation[i] * (_s.Kernel[i] - 1) - 1 - (_outputPlane[i] - 1) * _s.Stride[i];
        var pulled = nn.functional.conv_transpose2d(flat, _weight4, null, _s.Stride, _s.Padding, outputPadding, _s.Dilation, _groups);
        return [_oneDimensional ? pulled.reshape(batch, streams, _inputShape[0], _inputShape[2]) : pulled.reshape(batch, streams, _inputShape[0], _inputShape[1], _inputShape[2])];
    }

    public override Tensor ParameterGradient(NodeTrace trace, int parameter, Tensor g) =>
        parameter == 0 ? WeightProduct(g, Unfolded(trace, squared: false)) : PositionSum(g);

    public override Tensor SquaredParameterGradient(NodeTrace trace, int parameter, Tensor r) =>
        parameter == 0 ? WeightProduct(r, Unfolded(trace, squared: true)) : PositionSum(r);

    /// <summary>Σ over positions: the per-sample bias gradient, (batch, S, Cout).</summary>
    private Tensor PositionSum(Tensor g) => g.reshape(g.shape[0], g.shape[1], _weight4.shape[0], Positions).sum(3);

    /// <summary>Per group, g (S·Cout/G, L) times Uᵀ (L, Cin/G·k): (batch, S, Cout·Cin/G·k), the weight's layout.</summary>
    private Tensor WeightProduct(Tensor g, Tensor unfolded)
    {
        long batch = g.shape[0], streams = g.shape[1], outPerGroup = _weight4.shape[0] / _groups;
        var rows = g.reshape(batch, streams, _groups, outPerGroup, Positions).permute(0, 2, 1, 3, 4).reshape(batch, _groups, streams * outPerGroup, Positions);
        var product = rows.matmul(unfolded.transpose(2, 3)); // (batch, G, S·Cout/G, Cin/G·k)
        return product.reshape(batch, _groups, streams, outPerGroup, InPerGroup).permute(0, 2, 1, 3, 4).reshape(batch, streams, _weight4.numel());
    }

    /// <summary>The unfolded input (batch, G, Cin/G·k, L), or its square; computed once per trace.</summary>
    private Tensor Unfolded(NodeTrace trace, bool squared)
    {
        Tensor Make()
        {
            var u = nn.functional.unfold(trace.Input!, (_s.Kernel[0], _s.Kernel[1]), (_s.Dilation[0], _s.Dilation[1]), (_s.Padding[0], _s.Padding[1]), (_s.Stride[0], _s.Stride[1]));
            return u.reshape(u.shape[0], _groups, InPerGroup, Positions);
        }
        return squared ? trace.CachedSquare(Make) : trace.Cached(Make);
    }

    public override void Dispose()
    {
        _weight4.Dispose();
        base.Dispose();
    }
}
