using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// Independent Bernoulli outputs with logits f (estimators.md §5.2, binary case): t = y ∈ {0, 1}, η = p = sigmoid(f),
/// Σ = diag(p(1 − p)). Single output: I = p(1−p)J², V1 = p(1−p)(1−2p)²J⁴.
/// </summary>
internal sealed class BernoulliLikelihood(int outputs) : IndependentOutputsLikelihood(outputs)
{
    public override string Name => "bernoulli";

    public override Tensor LogLikelihood(Tensor f, Tensor labels) =>
        labels.mul(f.unsqueeze(1)).Minus(f.Softplus().unsqueeze(1)).sum(-1);

    public override Tensor Mean(Tensor f) => f.sigmoid();

    protected override Tensor OutputVariance(Tensor f)
    {
        var p = f.sigmoid();
        return p.mul(p.From(1));
    }

    protected override Tensor OutputFourthCumulant(Tensor f)
    {
        var v = OutputVariance(f);
        return v.mul(v.Times(-6).Plus(1));
    }

    /// <summary>2v² + κ4 = p(1−p)(1−2p)² with 1 − 2p = −tanh(f/2): no cancellation near p = 1/2.</summary>
    protected override Tensor OutputSquareVariance(Tensor f) => OutputVariance(f).mul(f.Times(0.5).tanh().Sq());

    public override Tensor SampleLabels(Tensor f, Tensor uniforms) =>
        uniforms.lt(f.to(ScalarType.Float64).sigmoid().unsqueeze(1)).to(f.dtype);

    public override Tensor PrepareObservedLabels(Tensor labels, long batch, ScalarType dtype)
    {
        var y = RealLabels(labels, batch, dtype);
        if (!(y.Is(0) | y.Is(1)).all().item<bool>())
            throw new InvalidBatchException("labels", "Bernoulli labels must be 0 or 1");
        return y;
    }
}
