using static TorchSharp.torch;

namespace Fisher.Estimators.Graph;

/// <summary>Flatten: every dimension after the batch into one; streams are re-indexed back.</summary>
internal sealed class FlattenNode(LayerSpec spec, int[] inputs, long[] inputShape)
    : GraphNode(spec, inputs, [inputShape.Aggregate(1L, (a, b) => checked(a * b))])
{
    public static GraphNode Create(LayerSpec spec, int[] inputs, long[][] inputShapes, TensorSource tensors) =>
        new FlattenNode(spec, inputs, inputShapes[0]);

    public override bool SampleFree => true;

    public override NodeTrace Forward(Tensor[] inputs, bool withSecond) => new(inputs[0].reshape(inputs[0].shape[0], OutputSize));

    public override Tensor[] Backward(NodeTrace trace, Tensor g) => [g.reshape([g.shape[0], g.shape[1], .. inputShape])];
}

/// <summary>Identity (and Dropout at evaluation): element-wise with Jacobian 1.</summary>
internal sealed class IdentityNode(LayerSpec spec, int[] inputs, long[] inputShape) : GraphNode(spec, inputs, inputShape)
{
    public static GraphNode Create(LayerSpec spec, int[] inputs, long[][] inputShapes, TensorSource tensors) =>
        new IdentityNode(spec, inputs, inputShapes[0]);

    public override bool Elementwise => true;

    public override bool SampleFree => true;

    public override NodeTrace Forward(Tensor[] inputs, bool withSecond) => new(inputs[0].alias());

    public override Tensor[] Backward(NodeTrace trace, Tensor g) => [g];

    public override Tensor? SquaredDiagonal(NodeTrace trace, int input) => null;
}

/// <summary>A residual sum a + b: each input's Jacobian is the identity; streams go to both inputs.</summary>
internal sealed class AddNode(LayerSpec spec, int[] inputs, long[] shape) : GraphNode(spec, inputs, shape)
{
    public static GraphNode Create(LayerSpec spec, int[] inputs, long[][] inputShapes, TensorSource tensors)
    {
        if (!inputShapes[0].SequenceEqual(inputShapes[1]))
            throw new InvalidNetworkException($"layer '{spec.Name}': adds inputs of per-sample shapes [{string.Join(", ", inputShapes[0])}] and [{string.Join(", ", inputShapes[1])}]; expected equal shapes");
        return new AddNode(spec, inputs, inputShapes[0]);
    }

    public override bool Elementwise => true;

    public override bool SampleFree => true;

    public override NodeTrace Forward(Tensor[] inputs, bool withSecond) => new(inputs[0].Plus(inputs[1]));

    public override Tensor[] Backward(NodeTrace trace, Tensor g) => [g, g];

    public override Tensor? SquaredDiagonal(NodeTrace trace, int input) => null;
}
