using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// y ~ N(μ, σ² I) with the network output f = μ (natural parameter μ/σ²; estimators.md §5.1). In f-space:
/// e = (y − μ)/σ², Σ_f = I/σ², A = I/σ, and since e has no excess kurtosis, V1 = 2 I(θ|x)² for every parameter.
/// </summary>
internal sealed class GaussianLikelihood : Likelihood
{
    /// <summary>A Gaussian with <paramref name="outputs"/> independent outputs of variance <paramref name="variance"/>.</summary>
    public GaussianLikelihood(int outputs, double variance = 1.0) : base(outputs)
    {
        if (!(variance > 0) || double.IsInfinity(variance))
            throw new ArgumentOutOfRangeException(nameof(variance), variance, "the Gaussian variance σ² must be positive and finite");
        Variance = variance;
    }

    /// <summary>σ².</summary>
    public double Variance { get; }

    public override string Name => "gaussian";

    public override int UniformsPerDraw => 2 * Outputs;

    public override Tensor LogLikelihood(Tensor f, Tensor labels)
    {
        var r = labels.Minus(f.unsqueeze(1));
        return r.Sq().sum(-1).Times(-1 / (2 * Variance)).Plus(-0.5 * Outputs * Math.Log(2 * Math.PI * Variance));
    }

    public override Tensor Mean(Tensor f) => f.alias();

    public override Tensor Score(Tensor f, Tensor labels) => labels.Minus(f.unsqueeze(1)).Over(Variance);

    public override Tensor OutputFisher(Tensor f) =>
        eye(Outputs, dtype: f.dtype).Over(Variance).expand(f.shape[0], Outputs, Outputs);

    public override Tensor SqrtOutputFisher(Tensor f) =>
        eye(Outputs, dtype: f.dtype).Over(Math.Sqrt(Variance)).expand(f.shape[0], Outputs, Outputs);

    public override Tensor QuadraticForm(Tensor f, Tensor rows) => rows.Sq().sum(1).Over(Variance);

    public override Tensor ScoreFourthMomentVariance(Tensor f, Tensor rows)
    {
        var q = QuadraticForm(f, rows);
        return q.Sq().Times(2); // E[(uᵀe)⁴] = 3(uᵀΣu)² for Gaussian e
    }

    public override (Tensor Lower, Tensor Upper) OutputFisherEigenvalues(Tensor f)
    {
        var value = ones(f.shape[0], f.dtype).Times(1 / Variance);
        return (value, value);
    }

    public override (Tensor Lower, Tensor Upper) ScoreCovarianceEigenvalues(Tensor f)
    {
        // Ψ = σ⁻⁴(I + commutation): 2σ⁻⁴ on symmetric arguments, so both bounds equal V1.
        var value = ones(f.shape[0], f.dtype).Times(2 / (Variance * Variance));
        return (value, value);
    }

    public override Tensor SampleLabels(Tensor f, Tensor uniforms)
    {
        // Box–Muller in float64: z = √(−2 ln u1) cos(2π u2), one pair per output.
        var u1 = uniforms[.., .., TensorIndex.Slice(0, Outputs)];
        var u2 = uniforms[.., .., TensorIndex.Slice(Outputs, 2 * Outputs)];
        var z = u1.log().Times(-2).sqrt().mul(u2.Times(2 * Math.PI).cos());
        return f.to(ScalarType.Float64).unsqueeze(1).Plus(z.Times(Math.Sqrt(Variance))).to(f.dtype);
    }

    public override Tensor PrepareObservedLabels(Tensor labels, long batch, ScalarType dtype) => RealLabels(labels, batch, dtype);
}
