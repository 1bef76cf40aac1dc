using static TorchSharp.torch;

namespace Fisher.Estimators.Graph;

/// <summary>
/// AvgPool2d and AdaptiveAvgPool2d: a fixed linear map P (output positions × input positions) per channel, the same
/// for every channel. Streams pass back as g P. P is made once by pooling the unit basis with torch's own operator, so
/// padding, count_include_pad and the adaptive windows mean exactly what they mean in PyTorch. No curvature.
/// </summary>
internal sealed class AveragePoolNode : GraphNode
{
    /// <summary>Largest pooling matrix (output × input positions) a layer may hold.</summary>
    public const long MaxMatrixElements = 1L << 24;

    private readonly Func<Tensor, Tensor> _pool;
    private readonly Tensor _matrix; // (Lout, Lin)
    private readonly long[] _inputShape;

    private AveragePoolNode(LayerSpec spec, int[] inputs, long[] outputShape, Func<Tensor, Tensor> pool, Tensor matrix, long[] inputShape)
        : base(spec, inputs, outputShape)
    {
        _pool = pool;
        _matrix = matrix;
        _inputShape = inputShape;
    }

    public static GraphNode Create(LayerSpec spec, int[] inputs, long[][] inputShapes, TensorSource tensors)
    {
        var input = inputShapes[0];
        if (input.Length != 3)
            throw new InvalidNetworkException($"layer '{spec.Name}': {spec.Op} needs per-sample input (channels, height, width), got [{string.Join(", ", input)}]");
        Func<Tensor, Tensor> pool;
        long[] plane;
        if (spec.Op == LayerOp.AdaptiveAvgPool2d)
        {
            var size = Spatial.Read(spec, "output size", spec.OutputSize ?? throw new InvalidNetworkException($"layer '{spec.Name}': AdaptiveAvgPool2d needs an output size"), [], 2, 1);
            if (size[0] > input[1] || size[1] > input[2])
                throw new InvalidNetworkException($"layer '{spec.Name}': output size [{size[0]}, {size[1]}] exceeds the input [{input[1]}, {input[2]}]");
            pool = x => nn.functional.adaptive_avg_pool2d(x, size);
            plane = size;
        }
        else
        {
            var kernel = Spatial.Read(spec, "kernel", spec.Kernel ?? throw new InvalidNetworkException($"layer '{spec.Name}': AvgPool2d needs a kernel size"), [], 2, 1);
            var s = new Spatial(kernel, Spatial.Read(spec, "stride", spec.Stride, kernel, 2, 1), Spatial.Read(spec, "padding", spec.Padding, [0, 0], 2, 0), [1, 1]);
            if (s.Padding[0] * 2 > s.Kernel[0] || s.Padding[1] * 2 > s.Kernel[1])
                throw new InvalidNetworkException($"layer '{spec.Name}': padding must be at most half the kernel size");
            bool include = spec.CountIncludePad;
            pool = x => nn.functional.avg_pool2d(x, s.Kernel, s.Stride, s.Padding, ceil_mode: false, count_include_pad: include);
            plane = Spatial.Output(spec, [input[1], input[2]], s);
        }
        long inPositions = input[1] * input[2], outPositions = plane[0] * plane[1];
        if (inPositions > MaxMatrixElements / outPositions)
            throw new InvalidNetworkException($"layer '{spec.Name}': {outPositions} x {inPositions} positions is over the pooling rule's limit of {MaxMatrixElements} elements");
        Tensor matrix;
        using (var scope = NewDisposeScope())
        {
            var basis = eye(inPositions, dtype: tensors.DType).reshape(inPositions, 1, input[1], input[2]);
            matrix = pool(basis).reshape(inPositions, outPositions).t().contiguous().MoveToOuterDisposeScope();
        }
        return new AveragePoolNode(spec, inputs, [input[0], plane[0], plane[1]], pool, matrix.DetachFromDisposeScope(), input);
    }

    public override long BackwardCost => _matrix.numel() * _inputShape[0];

    public override bool SampleFree => true;

    public override NodeTrace Forward(Tensor[] inputs, bool withSecond) => new(_pool(inputs[0]));

    public override Tensor[] Backward(NodeTrace trace, Tensor g)
    {
        long batch = g.shape[0], streams = g.shape[1], channels = _inputShape[0];
        var pulled = g.reshape(batch, streams, channels, _matrix.shape[0]).matmul(_matrix);
        return [pulled.reshape(batch, streams, channels, _inputShape[1], _inputShape[2])];
    }

    public override void Dispose()
    {
        _matrix.Dispose();
        base.Dispose();
    }
}
