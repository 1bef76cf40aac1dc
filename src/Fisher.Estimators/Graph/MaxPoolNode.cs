using static TorchSharp.torch;

namespace Fisher.Estimators.Graph;

/// <summary>
/// MaxPool2d: each output copies one input element (the arg-max of its window), so streams pass back by scattering
/// them onto the arg-max positions (overlapping windows add), and it adds no curvature (§9.7).
/// </summary>
internal sealed class MaxPoolNode : GraphNode
{
    private readonly Spatial _s;
    private readonly long[] _inputShape;

    private MaxPoolNode(LayerSpec spec, int[] inputs, long[] outputShape, Spatial s, long[] inputShape)
        : base(spec, inputs, outputShape)
    {
        _s = s;
        _inputShape = inputShape;
    }

    public static GraphNode Create(LayerSpec spec, int[] inputs, long[][] inputShapes, TensorSource tensors)
    {
        var input = inputShapes[0];
        if (input.Length != 3)
            throw new InvalidNetworkException($"layer '{spec.Name}': MaxPool2d needs per-sample input (channels, height, width), got [{string.Join(", ", input)}]");
        if (spec.Kernel is null)
            throw new InvalidNetworkException($"layer '{spec.Name}': MaxPool2d needs a kernel size");
        var kernel = Spatial.Read(spec, "kernel", spec.Kernel, [], 2, 1);
        var s = new Spatial(kernel, Spatial.Read(spec, "stride", spec.Stride, kernel, 2, 1),
            Spatial.Read(spec, "padding", spec.Padding, [0, 0], 2, 0), Spatial.Read(spec, "dilation", spec.Dilation, [1, 1], 2, 1));
        if (s.Padding[0] * 2 > s.Kernel[0] || s.Padding[1] * 2 > s.Kernel[1])
            throw new InvalidNetworkException($"layer '{spec.Name}': padding must be at most half the kernel size");
        var plane = Spatial.Output(spec, [input[1], input[2]], s);
        return new MaxPoolNode(spec, inputs, [input[0], plane[0], plane[1]], s, input);
    }

    public override long TraceElements => 2 * OutputSize; // int64 indices

    public override NodeTrace Forward(Tensor[] inputs, bool withSecond)
    {
        var (output, indices) = nn.functional.max_pool2d_with_indices(inputs[0], _s.Kernel, _s.Stride, _s.Padding, _s.Dilation);
        return new NodeTrace(output) { Saved = indices };
    }

    public override Tensor[] Backward(NodeTrace trace, Tensor g)
    {
        long batch = g.shape[0], streams = g.shape[1], channels = _inputShape[0];
        long plane = OutputShape[1] * OutputShape[2];
        var index = trace.Saved!.reshape(batch, 1, channels, plane).expand(batch, streams, channels, plane);
        var pulled = zeros([batch, streams, channels, _inputShape[1] * _inputShape[2]], g.dtype)
            .scatter_add_(3, index, g.reshape(batch, streams, channels, plane));
        return [pulled.reshape(batch, streams, channels, _inputShape[1], _inputShape[2])];
    }
}
