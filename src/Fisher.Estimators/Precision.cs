namespace Fisher.Estimators;

/// <summary>
/// How precisely a set of parameters (a group) is estimated by merged moments, and how many inputs a target needs
/// (estimators.md §7.1, applied to the group's diagonal as a vector).
/// </summary>
/// <remarks>
/// With per-input values of variance σ_p² for parameter p and N inputs, Var(Î_p) = σ_p²/N. Chebyshev on the vector
/// error: P(‖Î − I‖₂ ≥ ε‖I‖₂) ≤ Σ_p σ_p² / (N ε² ‖I‖₂²), so N ≥ Σ_p σ_p² / (δ ε² ‖I‖₂²) inputs give relative error
/// below ε with probability at least 1 − δ. ‖I‖ is replaced by ‖Î‖. The relative standard error is
/// ‖s.e.‖₂/‖Î‖₂ = sqrt(Σ_p σ_p² / N) / ‖Î‖₂.
/// </remarks>
public sealed record Precision(long Inputs, double SumOfSquaredEstimates, double SumOfPerInputVariances)
{
    /// <summary>‖s.e.‖₂/‖Î‖₂ (NaN with fewer than 2 inputs or a zero estimate).</summary>
    public double RelativeStandardError =>
        Inputs < 2 || SumOfSquaredEstimates <= 0 ? double.NaN : Math.Sqrt(SumOfPerInputVariances / Inputs / SumOfSquaredEstimates);

    /// <summary>Inputs needed for relative error below <paramref name="epsilon"/> with probability at least 1 − <paramref name="delta"/> (Chebyshev).</summary>
    public double InputsNeeded(double epsilon, double delta)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epsilon);
        if (!(delta is > 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "δ must be in (0, 1)");
        return SumOfSquaredEstimates <= 0 ? double.PositiveInfinity : SumOfPerInputVariances / (delta * epsilon * epsilon * SumOfSquaredEstimates);
    }

    /// <summary>True when the current inputs already give relative error below ε with probability 1 − δ.</summary>
    public bool Reaches(double epsilon, double delta) => Inputs >= 2 && Inputs >= InputsNeeded(epsilon, delta);
}
