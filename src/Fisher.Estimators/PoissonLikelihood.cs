using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// Independent Poisson outputs with log link: rate λ = exp(f), t = y, η = Σ = λ, fourth cumulant λ.
/// </summary>
internal sealed class PoissonLikelihood(int outputs) : IndependentOutputsLikelihood(outputs)
{
    /// <summary>Largest rate the sampler accepts (e^−λ underflows float64 beyond about 745).</summary>
    public const double MaxRate = 700;

    public override string Name => "poisson";

    public override Tensor LogLikelihood(Tensor f, Tensor labels) =>
        labels.mul(f.unsqueeze(1)).Minus(f.exp().unsqueeze(1)).Minus(labels.Plus(1).lgamma()).sum(-1);

    public override Tensor Mean(Tensor f) => f.exp();

    protected override Tensor OutputVariance(Tensor f) => f.exp();

    protected override Tensor OutputFourthCumulant(Tensor f) => f.exp();

    public override Tensor SampleLabels(Tensor f, Tensor uniforms)
    {
        // Inverse CDF, vectorised over the batch: advance k while u > P(Y ≤ k). The loop runs over count values,
        // not over samples, and ends after about max λ + 40√λ steps.
        var rate = f.to(ScalarType.Float64).exp().unsqueeze(1).expand_as(uniforms);
        double maxRate = rate.max().item<double>();
        if (maxRate > MaxRate)
            throw new InvalidBatchException("inputs", $"the Poisson rate exp(f) reaches {maxRate:G4}; the sampler supports rates up to {MaxRate}");
        var pmf = (-rate).exp();
        var cdf = pmf.clone();
        var y = zeros_like(rate);
        int limit = (int)(maxRate + 40 * Math.Sqrt(maxRate + 1) + 50);
        for (int k = 0; k < limit; k++)
        {
            var more = uniforms.gt(cdf);
            if (!more.any().item<bool>())
                break;
            y = y.Plus(more.to(ScalarType.Float64));
            pmf = pmf.mul(rate).Over(k + 1);
            cdf = cdf.Plus(pmf);
        }
        return y.to(f.dtype);
    }

    public override Tensor PrepareObservedLabels(Tensor labels, long batch, ScalarType dtype)
    {
        var y = RealLabels(labels, batch, dtype);
        if (!(y.AtLeast(0) & y.eq(y.round())).all().item<bool>())
            throw new InvalidBatchException("labels", "Poisson labels must be non-negative whole numbers");
        return y;
    }
}
