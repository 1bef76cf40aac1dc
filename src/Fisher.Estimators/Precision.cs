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
    /// <summary>Precision of an estimate whose per-input values are the streams given (one per parameter tensor).</summary>
    /// <param name="streams">Moments over inputs (when draws per input K ≥ 2, the moments of the per-input means).</param>
    public static Precision Of(IEnumerable<Moments> streams)
    {
        ArgumentNullException.ThrowIfNull(streams);
        long n = -1;
        double squares = 0, variances = 0;
        foreach (var s in streams)
        {
            if (n >= 0 && s.Count != n)
                throw new ArgumentException($"streams of one group must have the same count ({n} and {s.Count})", nameof(streams));
            n = s.Count;
            for (int i = 0; i < s.Length; i++)
            {
                squares += s.Mean[i] * s.Mean[i];
                if (s.Count > 1)
                    variances += s.M2[i] / (s.Count - 1);
            }
        }
        return new Precision(Math.Max(n, 0), squares, variances);
    }

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
