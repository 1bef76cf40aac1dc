namespace Fisher.Results;

/// <summary>
/// The shape of the per-input values behind an estimate for the input distribution (docs/estimators.md §3.5): their
/// skewness γ and kurtosis κ over the job's <see cref="Inputs"/> inputs.
/// </summary>
public readonly record struct InputShape(double Skewness, double Kurtosis, long Inputs);

/// <summary>
/// The intervals every output reports around an estimate (docs/estimators.md §3.5). Given the inputs, the estimate is a
/// mean of N·K independent label terms with a known variance: estimate ± z·√variance. For the input distribution the
/// estimate is a mean of N per-input values whose variance is itself estimated, and those values are skewed and
/// heavy-tailed: the interval inverts the Edgeworth expansion of the Studentized mean to second order (Hall, "The
/// Bootstrap and Edgeworth Expansion", 1992, section 2.6) with the skewness γ and kurtosis κ of the per-input values,
/// P(T ≤ x) = Φ(x) + N^(−1/2)·q1(x)·φ(x) + N^(−1)·q2(x)·φ(x),
/// q1(x) = γ(2x² + 1)/6,  q2(x) = x·[(κ − 3)(x² − 3)/12 − γ²(x⁴ + 2x² − 3)/18 − (x² + 1)/4]
/// (Hall's last term is (x² + 3)/4 for a variance with divisor N; the variances here divide by N − 1):
/// the half-width x solves 2Φ(x) − 1 + 2q2(x)φ(x)/N = level (the symmetric part; for normal values it is Student's t to
/// this order), and both ends move up by q1(z)/√N standard errors (the skewed part). The calibration suite
/// (bench/Fisher.Calibration) measures how often both kinds cover the truth.
/// </summary>
public static class ConfidenceInterval
{
    /// <summary>The interval of <paramref name="estimate"/> with <paramref name="variance"/> at two-sided <paramref name="level"/> (0.95: 95 %), normal.</summary>
    public static (double Lower, double Upper) Of(double estimate, double variance, double level)
    {
        double half = HalfWidth(variance, level);
        return (estimate - half, estimate + half);
    }

    /// <summary>
    /// The interval for the input distribution: <paramref name="shape"/> null or unknown (NaN) gives the normal interval.
    /// </summary>
    public static (double Lower, double Upper) Of(double estimate, double variance, double level, InputShape? shape)
    {
        if (shape is not { } s || !double.IsFinite(s.Skewness) || !double.IsFinite(s.Kurtosis) || s.Inputs < 3 || !(variance >= 0))
            return Of(estimate, variance, level);
        double se = Math.Sqrt(variance);
        double z = NormalQuantile(0.5 + level / 2);
        double half = EdgeworthHalfWidth(level, s);
        double shift = s.Skewness * (2 * z * z + 1) / (6 * Math.Sqrt(s.Inputs));
        return (estimate - (half - shift) * se, estimate + (half + shift) * se);
    }

    /// <summary>z·√variance at two-sided <paramref name="level"/>; NaN for a negative or unknown variance.</summary>
    public static double HalfWidth(double variance, double level) =>
        variance >= 0 ? NormalQuantile(0.5 + level / 2) * Math.Sqrt(variance) : double.NaN;

    /// <summary>
    /// The x with 2Φ(x) − 1 + 2q2(x)φ(x)/N = <paramref name="level"/> (bisection on [0.8z, 12]; the expansion's
    /// coverage is taken as increasing there), in standard errors.
    /// </summary>
    public static double EdgeworthHalfWidth(double level, InputShape shape)
    {
        double n = shape.Inputs, g2 = shape.Skewness * shape.Skewness, excess = shape.Kurtosis - 3;
        double Coverage(double x)
        {
            double x2 = x * x;
            double q2 = x * (excess * (x2 - 3) / 12 - g2 * (x2 * x2 + 2 * x2 - 3) / 18 - (x2 + 1) / 4);
            return 2 * NormalCdf(x) - 1 + 2 / n * q2 * Math.Exp(-x2 / 2) / Math.Sqrt(2 * Math.PI);
        }
        double low = 0.8 * NormalQuantile(0.5 + level / 2), high = 12;
        if (Coverage(low) >= level)
            return low;
        for (int i = 0; i < 50; i++)
        {
            double middle = (low + high) / 2;
            if (Coverage(middle) >= level)
                high = middle;
            else
                low = middle;
        }
        return high;
    }

    /// <summary>Φ(x), from erfc (Numerical Recipes' Chebyshev fit, relative error below 1.2e-7).</summary>
    public static double NormalCdf(double x)
    {
        double z = Math.Abs(x) / Math.Sqrt(2), t = 1 / (1 + 0.5 * z);
        double erfc = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - erfc / 2 : erfc / 2;
    }

    /// <summary>
    /// The standard normal quantile Φ⁻¹(<paramref name="p"/>) for 0 &lt; p &lt; 1 (Acklam's rational approximation,
    /// relative error below 1.2e-9).
    /// </summary>
    public static double NormalQuantile(double p)
    {
        if (!(p is > 0 and < 1))
            throw new ArgumentOutOfRangeException(nameof(p), p, "expected a probability strictly between 0 and 1");
        ReadOnlySpan<double> a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        ReadOnlySpan<double> b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        ReadOnlySpan<double> c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        ReadOnlySpan<double> d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double low = 0.02425;
        if (p < low)
        {
            double q = Math.Sqrt(-2 * Math.Log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > 1 - low)
            return -NormalQuantile(1 - p);
        double r = p - 0.5, s = r * r;
        return (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1);
    }
}
