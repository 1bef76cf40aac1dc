namespace Fisher.Data.Reports;

/// <summary>A group's mean diagonal entry of one estimate and the standard error of that mean.</summary>
/// <param name="Mean">Σ entries / size over the group's parameters.</param>
/// <param name="StandardError">√(Σ variances) / size (from the <c>_var</c> tensors), or NaN without them.</param>
/// <param name="RelativeStandardError">‖s.e.‖₂ / ‖estimate‖₂ over the group (summary.json's, else computed).</param>
/// <param name="Count">The stream's sample count (summary.json), when stated.</param>
public sealed record EstimateStatistics(double Mean, double StandardError, double RelativeStandardError, long? Count, double? InputsNeeded = null);

/// <summary>Where a variance split comes from.</summary>
public enum SplitSource
{
    /// <summary><c>var_inputs</c> and <c>i1_var_labels</c>/<c>i2_var_labels</c>, estimated from K ≥ 2 draws per input.</summary>
    Draws,

    /// <summary>Label part: the closed-form mean V1/V2; input part: N · <c>exact_var</c> (the exact diagonal has no label noise).</summary>
    ClosedForm,
}

/// <summary>
/// A group's split of N·Var(Î) = Var_x I(θ|x) + E_x V(θ|x)/K (estimators.md §3.2), averaged over the group's
/// parameters. <see cref="InputPart"/> is an unbiased estimate and may be negative.
/// </summary>
public sealed record VarianceSplitStatistics(double InputPart, double LabelPart, int Draws, SplitSource Source)
{
    /// <summary>The label part's contribution to N·Var(Î): E_x V / K.</summary>
    public double LabelContribution => LabelPart / Draws;

    /// <summary>Share of N·Var(Î) due to the labels, with a negative input part counted as 0.</summary>
    public double LabelShare => LabelContribution / (Math.Max(0, InputPart) + LabelContribution);
}

/// <summary>Percentiles of log10(bound / V) over a group's parameters with V &gt; 0 and bound &gt; 0.</summary>
public sealed record TightnessStatistics(int Used, int Excluded, double P5, double P25, double Median, double P75, double P95, double Min, double Max);

/// <summary>Everything the report shows about one parameter group, computed from fisher.safetensors.</summary>
public sealed class GroupStatistics
{
    /// <summary>Estimate quantities in report order.</summary>
    public static readonly string[] EstimateKeys = ["i1", "i2", "exact", "empirical"];

    /// <summary>Bound quantities (estimators.md §4) in report order.</summary>
    public static readonly string[] BoundKeys = ["v1_upper", "v1_lower", "v2_upper", "v2_lower"];

    public required string Name { get; init; }

    /// <summary>Number of parameters (entries) in the group, from the tensors.</summary>
    public required long Size { get; init; }

    public required IReadOnlyDictionary<string, EstimateStatistics> Estimates { get; init; }

    /// <summary>Means over the group's entries of v1, v2 and the bounds (keys as in the tensor file).</summary>
    public required IReadOnlyDictionary<string, double> VarianceMeans { get; init; }

    /// <summary>log10(bound/V) percentiles by bound key (only bounds present with at least one usable entry).</summary>
    public required IReadOnlyDictionary<string, TightnessStatistics> Tightness { get; init; }

    /// <summary>Entries per bound key whose V is 0 (or bound ≤ 0), left out of <see cref="Tightness"/>.</summary>
    public required IReadOnlyDictionary<string, int> TightnessExcluded { get; init; }

    /// <summary>The variance split of Î1 ("i1") and Î2 ("i2"), when it can be shown.</summary>
    public required IReadOnlyDictionary<string, VarianceSplitStatistics> Splits { get; init; }

    /// <summary>Mean and max over the group's entries of the share of negative Î2 terms, when present.</summary>
    public required (double Mean, double Max)? NegativeShare { get; init; }

    /// <summary>
    /// "i1" or "i2", whichever has the lower label variance (mean V1 vs mean V2; without them, Σ i1_var vs Σ i2_var),
    /// with the ratio lower/higher and which quantities decided; null when neither pair is present.
    /// </summary>
    public required (string Lower, double Ratio, string Basis)? LowerVariance { get; init; }

    /// <summary>Computes the statistics of every group of <paramref name="data"/>.</summary>
    public static IReadOnlyList<GroupStatistics> Compute(ResultData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.Groups.Select(g => Compute(data, g)).ToArray();
    }

    private static GroupStatistics Compute(ResultData data, SummaryGroup group)
    {
        double[]? Collect(string quantity)
        {
            var parts = group.Parameters.Select(p => data.Tensor(p, quantity)).Where(t => t is not null).ToArray();
            return parts.Length == 0 ? null : parts.SelectMany(t => t!.Data).ToArray();
        }

        var estimates = new Dictionary<string, EstimateStatistics>(StringComparer.Ordinal);
        long size = 0;
        foreach (var key in EstimateKeys)
        {
            var values = Collect(key);
            if (values is null || values.Length == 0)
                continue;
            size = Math.Max(size, values.Length);
            var variances = Collect(key + "_var");
            double sum = values.Sum();
            double squares = values.Sum(v => v * v);
            double se = double.NaN, rse = double.NaN;
            if (variances is not null && variances.Length == values.Length)
            {
                double total = variances.Where(double.IsFinite).Sum();
                se = Math.Sqrt(total) / values.Length;
                rse = squares > 0 ? Math.Sqrt(total / squares) : double.NaN;
            }
            group.Quantities.TryGetValue(key, out var stated);
            if (stated?.RelativeStandardError is { } statedRse && double.IsFinite(statedRse))
                rse = statedRse;
            estimates[key] = new EstimateStatistics(sum / values.Length, se, rse, stated?.Count, stated?.InputsNeeded);
        }

        var means = new Dictionary<string, double>(StringComparer.Ordinal);
        var arrays = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var key in new[] { "v1", "v2" }.Concat(BoundKeys))
        {
            var values = Collect(key);
            if (values is null || values.Length == 0)
                continue;
            arrays[key] = values;
            if (FiniteMean(values) is { } mean)
                means[key] = mean;
            size = Math.Max(size, values.Length);
        }

        var tightness = new Dictionary<string, TightnessStatistics>(StringComparer.Ordinal);
        var excluded = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var key in BoundKeys)
        {
            if (!arrays.TryGetValue(key, out var bound) || !arrays.TryGetValue(key[..2], out var v) || v.Length != bound.Length)
                continue;
            var logs = new List<double>(v.Length);
            for (int i = 0; i < v.Length; i++)
            {
                if (v[i] > 0 && bound[i] > 0 && double.IsFinite(v[i]) && double.IsFinite(bound[i]))
                    logs.Add(Math.Log10(bound[i] / v[i]));
            }
            excluded[key] = v.Length - logs.Count;
            if (logs.Count > 0)
                tightness[key] = Percentiles(logs, v.Length - logs.Count);
        }

        var splits = new Dictionary<string, VarianceSplitStatistics>(StringComparer.Ordinal);
        var inputPart = Collect("var_inputs") is { } vi ? FiniteMean(vi) : null;
        long? n = estimates.TryGetValue("exact", out var exact) ? exact.Count ?? data.Inputs : data.Inputs;
        var exactVar = Collect("exact_var") is { } ev ? FiniteMean(ev) : null;
        foreach (var (estimator, v) in new[] { ("i1", "v1"), ("i2", "v2") })
        {
            var labelPart = Collect(estimator + "_var_labels") is { } vl ? FiniteMean(vl) : null;
            if (inputPart is { } input && labelPart is { } label)
                splits[estimator] = new VarianceSplitStatistics(input, label, data.Draws, SplitSource.Draws);
            else if (exactVar is { } ex && n is > 0 && means.TryGetValue(v, out var closed))
                splits[estimator] = new VarianceSplitStatistics(ex * n.Value, closed, data.Draws, SplitSource.ClosedForm);
        }

        (double, double)? negative = null;
        if ((Collect("i2_negative_share") ?? Collect("i2_negative")) is { } shares && shares.Any(double.IsFinite))
        {
            var finite = shares.Where(double.IsFinite).ToArray();
            negative = (finite.Average(), finite.Max());
        }

        (string, double, string)? lower = null;
        if (means.TryGetValue("v1", out var v1) && means.TryGetValue("v2", out var v2))
            lower = Lower(v1, v2, "mean V1 vs mean V2");
        else if (Collect("i1_var") is { } i1v && Collect("i2_var") is { } i2v)
            lower = Lower(i1v.Where(double.IsFinite).Sum(), i2v.Where(double.IsFinite).Sum(), "Var(Î1) vs Var(Î2)");

        return new GroupStatistics
        {
            Name = group.Name,
            Size = size > 0 ? size : group.Size ?? 0,
            Estimates = estimates,
            VarianceMeans = means,
            Tightness = tightness,
            TightnessExcluded = excluded,
            Splits = splits,
            NegativeShare = negative,
            LowerVariance = lower,
        };
    }

    private static (string, double, string)? Lower(double a, double b, string basis)
    {
        if (!double.IsFinite(a) || !double.IsFinite(b) || (a <= 0 && b <= 0))
            return a == 0 && b == 0 ? ("tie", 1, basis) : null;
        return a <= b ? ("i1", a / b, basis) : ("i2", b / a, basis);
    }

    private static double? FiniteMean(double[] values)
    {
        double sum = 0;
        int count = 0;
        foreach (var v in values)
        {
            if (double.IsFinite(v))
            {
                sum += v;
                count++;
            }
        }
        return count == 0 ? null : sum / count;
    }

    private static TightnessStatistics Percentiles(List<double> values, int excluded)
    {
        values.Sort();
        double At(double p)
        {
            double position = p * (values.Count - 1);
            int low = (int)Math.Floor(position);
            int high = Math.Min(values.Count - 1, low + 1);
            return values[low] + (position - low) * (values[high] - values[low]);
        }
        return new TightnessStatistics(values.Count, excluded, At(0.05), At(0.25), At(0.5), At(0.75), At(0.95), values[0], values[^1]);
    }
}
