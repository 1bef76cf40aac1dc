namespace Fisher.Estimators;

/// <summary>
/// Streaming moments (count, mean, M2) of one per-sample quantity for every element of one parameter tensor,
/// in float64 (estimators.md §9.6). Merging is Chan's parallel update: associative and commutative up to
/// rounding, so partials can be merged in any order and grouping.
/// </summary>
public sealed class Moments
{
    /// <summary>Creates moments from existing state; the arrays are taken, not copied.</summary>
    public Moments(long count, double[] mean, double[] m2)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(m2);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (mean.Length != m2.Length)
            throw new ArgumentException($"mean has {mean.Length} elements but m2 has {m2.Length}", nameof(m2));
        Count = count;
        Mean = mean;
        M2 = m2;
    }

    /// <summary>Number of per-sample values merged (inputs, or inputs x label draws).</summary>
    public long Count { get; private set; }

    /// <summary>Per-element mean of the per-sample values: the estimate.</summary>
    public double[] Mean { get; }

    /// <summary>Per-element sum of squared deviations from the mean.</summary>
    public double[] M2 { get; }

    /// <summary>Number of elements (parameters) these moments describe.</summary>
    public int Length => Mean.Length;

    /// <summary>Empty moments for <paramref name="length"/> elements.</summary>
    public static Moments Empty(int length) => new(0, new double[length], new double[length]);

    /// <summary>
    /// Moments of a batch from its power sums S1 = Σv and S2 = Σv²: mean = S1/n, M2 = S2 − S1²/n (clamped at 0).
    /// </summary>
    public static Moments FromPowerSums(long count, ReadOnlySpan<double> sum, ReadOnlySpan<double> sumOfSquares)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (sum.Length != sumOfSquares.Length)
            throw new ArgumentException("power sums differ in length", nameof(sumOfSquares));
        var mean = new double[sum.Length];
        var m2 = new double[sum.Length];
        double inv = 1.0 / count;
        for (int i = 0; i < mean.Length; i++)
        {
            mean[i] = sum[i] * inv;
            m2[i] = Math.Max(0.0, sumOfSquares[i] - sum[i] * mean[i]);
        }
        return new Moments(count, mean, m2);
    }

    /// <summary>Merges <paramref name="other"/> into this instance (Chan et al.): n = na + nb, d = μb − μa, μ += d nb/n, M2 += M2b + d² na nb/n.</summary>
    public void Merge(Moments other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Length != Length)
            throw new ArgumentException($"cannot merge moments of {other.Length} elements into moments of {Length}", nameof(other));
        if (other.Count == 0)
            return;
        if (Count == 0)
        {
            other.Mean.CopyTo(Mean, 0);
            other.M2.CopyTo(M2, 0);
            Count = other.Count;
            return;
        }
        double na = Count, nb = other.Count, n = na + nb;
        double wb = nb / n, wab = na * nb / n;
        var mean = Mean;
        var m2 = M2;
        var omean = other.Mean;
        var om2 = other.M2;
        for (int i = 0; i < mean.Length; i++)
        {
            double d = omean[i] - mean[i];
            mean[i] += d * wb;
            m2[i] += om2[i] + d * d * wab;
        }
        Count += other.Count;
    }

    /// <summary>A deep copy.</summary>
    public Moments Clone() => new(Count, (double[])Mean.Clone(), (double[])M2.Clone());

    /// <summary>Sample variance of the per-sample values, M2/(n−1) (NaN for n &lt; 2).</summary>
    public double[] SampleVariance()
    {
        var v = new double[Length];
        for (int i = 0; i < v.Length; i++)
            v[i] = Count > 1 ? M2[i] / (Count - 1) : double.NaN;
        return v;
    }

    /// <summary>Variance of the estimate (the mean): sample variance / n.</summary>
    public double[] VarianceOfMean()
    {
        var v = SampleVariance();
        for (int i = 0; i < v.Length; i++)
            v[i] /= Count;
        return v;
    }

    /// <summary>Per-element sums Σv = n·mean (useful to compare with brute-force sums).</summary>
    public double[] Sum()
    {
        var s = new double[Length];
        for (int i = 0; i < s.Length; i++)
            s[i] = Mean[i] * Count;
        return s;
    }

    /// <summary>Per-element sums of squares Σv² = M2 + n·mean².</summary>
    public double[] SumOfSquares()
    {
        var s = new double[Length];
        for (int i = 0; i < s.Length; i++)
            s[i] = M2[i] + Count * Mean[i] * Mean[i];
        return s;
    }
}
