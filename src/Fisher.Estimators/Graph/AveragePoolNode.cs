using static TorchSharp.torch;

namespace Fisher.Estimators.Graph;

/// <summary>
/// AvgPool2d and AdaptiveAvgPool2d: a fixed linear map per channel, separable into a height map P_h (output rows ×
/// input rows) and a width map P_w, z = P_h x P_wᵀ, so streams pass back as P_hᵀ g P_w. The maps hold PyTorch's windows
/// and divisors (ceil_mode off): AvgPool2d windows [i·s − p, i·s − p + k) divided by k per dimension, or with
/// count_include_pad off by the number of input rows (columns) they cover; adaptive windows [⌊i·n/o⌋, ⌈(i + 1)·n/o⌉)
/// divided by their length. The forward pass is PyTorch's own operator. No curvature.
/// </summary>
internal sealed class AveragePoolNode : GraphNode
{
    /// <summary>Largest one-dimensional pooling map (output × input positions) a layer may hold.</summary>
    public const long MaxMapElements = 1L << 24;

    private readonly Func<Tensor, Tensor> _pool;
    private readonly Tensor _rows;    // P_h (Ho, H)
    private readonly Tensor _columns; // P_w (Wo, W)
    private readonly long[] _inputShape;

    private AveragePoolNode(LayerSpec spec, int[] inputs, long[] outputShape, Func<Tensor, Tensor> pool, Tensor rows, Tensor columns, long[] inputShape)
        : base(spec, inputs, outputShape)
    {
        _pool = pool;
        _rows = rows;
        _columns = columns;
        _inputShape = inputShape;
    }

    public static GraphNode Create(LayerSpec spec, int[] inputs, long[][] inputShapes, TensorSource tensors)
    {
        var input = inputShapes[0];
        if (input.Length != 3)
            throw new InvalidNetworkException($"layer '{spec.Name}': {spec.Op} needs per-sample input (channels, height, width), got [{string.Join(", ", input)}]");
        Func<Tensor, Tensor> pool;
        Func<int, long, long, double[,]> map;
        long[] plane;
        if (spec.Op == LayerOp.AdaptiveAvgPool2d)
        {
            var size = Spatial.Read(spec, "output size", spec.OutputSize ?? throw new InvalidNetworkException($"layer '{spec.Name}': AdaptiveAvgPool2d needs an output size"), [], 2, 1);
            if (size[0] > input[1] || size[1] > input[2])
                throw new InvalidNetworkException($"layer '{spec.Name}': output size [{size[0]}, {size[1]}] exceeds the input [{input[1]}, {input[2]}]");
            pool = x => nn.functional.adaptive_avg_pool2d(x, size);
            plane = size;
            map = (_, n, o) => Window(n, o, i => (i * n / o, ((i + 1) * n + o - 1) / o), (first, last) => last - first);
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
            map = (d, n, o) => Window(n, o, i => (i * s.Stride[d] - s.Padding[d], i * s.Stride[d] - s.Padding[d] + s.Kernel[d]),
                (first, last) => include ? s.Kernel[d] : last - first);
        }
        for (int d = 0; d < 2; d++)
        {
            if (plane[d] * input[d + 1] > MaxMapElements)
                throw new InvalidNetworkException($"layer '{spec.Name}': {plane[d]} x {input[d + 1]} positions is over the pooling rule's limit of {MaxMapElements} elements");
        }
        var rows = tensor(map(0, input[1], plane[0]), tensors.DType).DetachFromDisposeScope();
        var columns = tensor(map(1, input[2], plane[1]), tensors.DType).DetachFromDisposeScope();
        return new AveragePoolNode(spec, inputs, [input[0], plane[0], plane[1]], pool, rows, columns, input);
    }

    /// <summary>
    /// The (o, n) map of one dimension: output i averages inputs window(i) clipped to [0, n), each with weight
    /// 1/divisor(first, last) of the clipped window.
    /// </summary>
    private static double[,] Window(long n, long o, Func<long, (long Start, long End)> window, Func<long, long, long> divisor)
    {
        var map = new double[o, n];
        for (long i = 0; i < o; i++)
        {
            var (start, end) = window(i);
            long first = Math.Max(start, 0), last = Math.Min(end, n);
            double weight = 1.0 / divisor(first, last);
            for (long j = first; j < last; j++)
                map[i, j] = weight;
        }
        return map;
    }

    public override long BackwardCost => _inputShape[0] * (OutputShape[1] * OutputShape[2] * _inputShape[2] + OutputShape[1] * _inputShape[1] * _inputShape[2]);

    public override bool SampleFree => true;

    public override NodeTrace Forward(Tensor[] inputs, bool withSecond) => new(_pool(inputs[0]));

    public override Tensor[] Backward(NodeTrace trace, Tensor g) => [_rows.t().matmul(g.matmul(_columns))];

    public override void Dispose()
    {
        _rows.Dispose();
        _columns.Dispose();
        base.Dispose();
    }
}
