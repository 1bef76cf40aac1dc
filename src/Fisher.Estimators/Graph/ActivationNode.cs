using static TorchSharp.torch;

namespace Fisher.Estimators.Graph;

/// <summary>
/// An element-wise activation a = σ(t): streams pass back times σ'(t), a diagonal curvature times σ'(t)², and a smooth
/// σ adds the residual curvature σ''(t) ⊙ g of every stream g at its output (§9.2).
/// </summary>
internal sealed class ActivationNode(LayerSpec spec, int[] inputs, long[] shape, Activation activation) : GraphNode(spec, inputs, shape)
{
    public static GraphNode Create(LayerSpec spec, int[] inputs, long[][] inputShapes, TensorSource tensors) =>
        new ActivationNode(spec, inputs, inputShapes[0], spec.Activation!);

    public Activation Activation { get; } = activation;

    public override bool Elementwise => true;

    public override long TraceElements => 2 * OutputSize; // σ' and σ

    public override NodeTrace Forward(Tensor[] inputs, bool withSecond)
    {
        var (value, first, second) = Activation.Evaluate(inputs[0], withSecond && !Activation.IsPiecewiseLinear);
        return new NodeTrace(value) { Saved = first, Second = second };
    }

    public override Tensor[] Backward(NodeTrace trace, Tensor g) => [g.mul(trace.Saved!.unsqueeze(1))];

    public override Tensor? SquaredDiagonal(NodeTrace trace, int input) => trace.Saved!.Sq().unsqueeze(1);

    public override Tensor? Curvature(NodeTrace trace) => trace.Second;
}
