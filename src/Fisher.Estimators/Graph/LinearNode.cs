using static TorchSharp.torch;

namespace Fisher.Estimators.Graph;

/// <summary>
/// z = W a + b on flat inputs. Factored (§9.5): the per-sample value of W_jk is a per-unit value times a power of
/// a_k, so the estimator sums it with Gram products of the unit rows and the saved input instead of per-parameter rows.
/// </summary>
internal sealed class LinearNode : GraphNode
{
    private readonly NodeParameter[] _parameters;

    private LinearNode(LayerSpec spec, int[] inputs, Tensor weight, Tensor? bias)
        : base(spec, inputs, [weight.shape[0]])
    {
        Weight = weight;
        Bias = bias;
        var list = new List<NodeParameter> { new("weight", spec.TensorName("weight"), ParameterKind.Weight, weight) };
        if (bias is not null)
            list.Add(new("bias", spec.TensorName("bias"), ParameterKind.Bias, bias));
        _parameters = [.. list];
    }

    public static GraphNode Create(LayerSpec spec, int[] inputs, long[][] inputShapes, TensorSource tensors)
    {
        if (inputShapes[0].Length != 1)
            throw new InvalidNetworkException($"layer '{spec.Name}': Linear needs a flat input, got per-sample shape [{string.Join(", ", inputShapes[0])}] (add a Flatten before it)");
        var weight = tensors.Take(spec, "weight", required: true)!;
        if (weight.dim() != 2 || weight.shape[1] != inputShapes[0][0])
        {
            var shape = string.Join(", ", weight.shape);
            weight.Dispose();
            throw new InvalidNetworkException($"tensor '{spec.TensorName("weight")}': expected shape [out, {inputShapes[0][0]}], got [{shape}]");
        }
        Tensor? bias = null;
        if (spec.Bias)
        {
            try
            {
                bias = TensorSource.Expect(tensors.Take(spec, "bias", required: true)!, spec, "bias", weight.shape[0]);
            }
            catch
            {
                weight.Dispose();
                throw;
            }
        }
        return new LinearNode(spec, inputs, weight, bias);
    }

    public Tensor Weight { get; }

    public Tensor? Bias { get; }

    public override IReadOnlyList<NodeParameter> Parameters => _parameters;

    public override bool SampleFree => true;

    public override bool Factored => true;

    public override long BackwardCost => Weight.numel();

    public override NodeTrace Forward(Tensor[] inputs, bool withSecond) =>
        new(nn.functional.linear(inputs[0], Weight, Bias)) { Input = inputs[0] };

    public override Tensor[] Backward(NodeTrace trace, Tensor g) => [g.matmul(Weight)];

    // Factored: the estimator reads unit rows and the saved input; these serve callers that want per-parameter rows.
    public override Tensor ParameterGradient(NodeTrace trace, int parameter, Tensor g) => parameter == 0
        ? g.unsqueeze(3).mul(trace.Input!.unsqueeze(1).unsqueeze(2)).flatten(2)
        : g;

    public override Tensor SquaredParameterGradient(NodeTrace trace, int parameter, Tensor r) => parameter == 0
        ? r.unsqueeze(3).mul(trace.Input!.Sq().unsqueeze(1).unsqueeze(2)).flatten(2)
        : r;
}
