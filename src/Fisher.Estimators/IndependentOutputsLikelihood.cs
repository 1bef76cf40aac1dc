using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// Families with independent outputs, diagonal Σ_f = diag(v). For a Jacobian row u the fourth moment of a sum of
/// independent centred terms gives V1 = Σ_o κ4_o u_o⁴ + 2 (Σ_o v_o u_o²)², with κ4 the fourth cumulant of e_o
/// (Gaussian 0, Bernoulli v(1 − 6v), Poisson λ).
/// </summary>
internal abstract class IndependentOutputsLikelihood : Likelihood
{
    private protected IndependentOutputsLikelihood(int outputs) : base(outputs)
    {
    }

    public override int UniformsPerDraw => Outputs;

    /// <summary>Per-output variance v of e, (batch, outputs).</summary>
    protected abstract Tensor OutputVariance(Tensor f);

    /// <summary>Per-output fourth cumulant κ4 of e, (batch, outputs).</summary>
    protected abstract Tensor OutputFourthCumulant(Tensor f);

    /// <summary>Per-output Var(e_o²) = 2v² + κ4 ≥ 0, (batch, outputs); override where a cancellation-free form exists.</summary>
    protected virtual Tensor OutputSquareVariance(Tensor f) => OutputVariance(f).Sq().Times(2).Plus(OutputFourthCumulant(f)).relu();

    public override Tensor Score(Tensor f, Tensor labels) => labels.Minus(Mean(f).unsqueeze(1));

    public override Tensor OutputFisher(Tensor f) => Diagonal(OutputVariance(f));

    public override Tensor SqrtOutputFisher(Tensor f) => Diagonal(OutputVariance(f).sqrt());

    public override Tensor QuadraticForm(Tensor f, Tensor rows) => OutputVariance(f).unsqueeze(2).mul(rows.Sq()).sum(1);

    public override Tensor ScoreFourthMomentVariance(Tensor f, Tensor rows)
    {
        var q = QuadraticForm(f, rows);
        var u2 = rows.Sq();
        return OutputFourthCumulant(f).unsqueeze(2).mul(u2.Sq()).sum(1).Plus(q.Sq().Times(2));
    }

    public override (Tensor Lower, Tensor Upper) OutputFisherEigenvalues(Tensor f)
    {
        var v = OutputVariance(f);
        return (v.amin(1), v.amax(1));
    }

    public override (Tensor Lower, Tensor Upper) ScoreCovarianceEigenvalues(Tensor f)
    {
        // Ψ_(ab),(cd) = v_a v_b ([a=c, b=d] + [a=d, b=c]) + κ4_a [a=b=c=d]: on symmetric arguments its eigenvalues are
        // 2 v_a v_b for a < b (pairs e_a⊗e_b + e_b⊗e_a) and Var(e_a²) = 2v_a² + κ4_a (on e_a⊗e_a); 0 on antisymmetric ones.
        var v = OutputVariance(f);
        var diagonal = OutputSquareVariance(f);
        var lower = diagonal.amin(1);
        var upper = diagonal.amax(1);
        if (Outputs >= 2)
        {
            var sorted = v.sort(1, descending: true).Values;
            var largest = sorted[.., 0].mul(sorted[.., 1]).Times(2);
            var smallest = sorted[.., Outputs - 1].mul(sorted[.., Outputs - 2]).Times(2);
            lower = lower.minimum(smallest);
            upper = upper.maximum(largest);
        }
        return (lower, upper);
    }
}
