namespace Fisher.Results.Reports;

/// <summary>Everything the report shows about one parameter group, computed from a <see cref="JobResult"/>'s tensors.</summary>
internal sealed class GroupStatistics
{
    public required string Name { get; init; }

    /// <summary>Number of parameters (entries) in the group, from the tensors.</summary>
    public required long Size { get; init; }

    /// <summary>The estimates present, by catalog entry.</summary>
    public required IReadOnlyDictionary<QuantityInfo, EstimateStatistics> Estimates { get; init; }

    /// <summary>Means over the group's entries of the conditional variances and their bounds, by catalog entry.</summary>
    public required IReadOnlyDictionary<QuantityInfo, double> VarianceMeans { get; init; }

    /// <summary>log10(bound/V) percentiles by bound (only bounds present with at least one usable entry).</summary>
    public required IReadOnlyDictionary<QuantityInfo, TightnessStatistics> Tightness { get; init; }

    /// <summary>Entries per bound whose V is 0 (or bound ≤ 0), left out of <see cref="Tightness"/>.</summary>
    public required IReadOnlyDictionary<QuantityInfo, int> TightnessExcluded { get; init; }

    /// <summary>The variance split per estimate that has a conditional variance (Î1, Î2), when it can be shown.</summary>
    public required IReadOnlyDictionary<QuantityInfo, VarianceSplitStatistics> Splits { get; init; }

    /// <summary>Mean and max over the group's entries of the share of negative terms, when present.</summary>
    public required (double Mean, double Max)? NegativeShare { get; init; }

    /// <summary>The group's decision, as summary.json states it (<see cref="DecisionRule"/>).</summary>
    public required GroupDecision Decision { get; init; }

    /// <summary>The statistics of every group of <paramref name="result"/>.</summary>
    public static IReadOnlyList<GroupStatistics> Compute(JobResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Summary.Groups.Select(g => Compute(result, g)).ToArray();
    }

    private static GroupStatistics Compute(JobResult result, SummaryGroup group)
    {
        double[]? Collect(string suffix)
        {
            var parts = group.Parameters.Select(p => result.Tensor(p, suffix)).Where(t => t is not null).ToArray();
            return parts.Length == 0 ? null : parts.SelectMany(t => t!.Data).ToArray();
        }

        var estimates = EstimatesOf(group, Collect);
        var arrays = new Dictionary<QuantityInfo, double[]>();
        foreach (var quantity in QuantityCatalog.With(QuantityRole.ConditionalVariance).Concat(QuantityCatalog.With(QuantityRole.Bound)))
        {
            if (Collect(quantity.TensorKey) is { Length: > 0 } values)
                arrays[quantity] = values;
        }
        var means = arrays.Where(p => FiniteMean(p.Value) is not null).ToDictionary(p => p.Key, p => FiniteMean(p.Value)!.Value);
        var (tightness, excluded) = TightnessOf(arrays);
        long size = Math.Max(estimates.Values.Select(e => e.Size).DefaultIfEmpty(0).Max(), arrays.Values.Select(a => (long)a.Length).DefaultIfEmpty(0).Max());
        return new GroupStatistics
        {
            Name = group.Name,
            Size = size > 0 ? size : group.Size,
            Estimates = estimates.ToDictionary(p => p.Key, p => p.Value.Statistics),
            VarianceMeans = means,
            Tightness = tightness,
            TightnessExcluded = excluded,
            Splits = SplitsOf(result, estimates, means, Collect),
            NegativeShare = NegativeShareOf(Collect),
            Decision = group.Decision,
        };
    }

    /// <summary>Each estimate's mean entry and standard error of that mean, and its size; summary.json's rse when stated.</summary>
    private static Dictionary<QuantityInfo, (EstimateStatistics Statistics, long Size)> EstimatesOf(SummaryGroup group, Func<string, double[]?> collect)
    {
        var estimates = new Dictionary<QuantityInfo, (EstimateStatistics, long)>();
        foreach (var quantity in QuantityCatalog.Estimates)
        {
            if (collect(quantity.TensorKey) is not { Length: > 0 } values)
                continue;
            var variances = collect(quantity.VarianceKey);
            double squares = values.Sum(v => v * v);
            double se = double.NaN, rse = double.NaN;
            if (variances is not null && variances.Length == values.Length)
            {
                double total = variances.Where(double.IsFinite).Sum();
                se = Math.Sqrt(total) / values.Length;
                rse = squares > 0 ? Math.Sqrt(total / squares) : double.NaN;
            }
            var stated = group.Quantity(quantity);
            if (stated?.RelativeStandardError is { } statedRse && double.IsFinite(statedRse))
                rse = statedRse;
            estimates[quantity] = (new EstimateStatistics(values.Sum() / values.Length, se, rse, stated?.Count, stated?.InputsNeeded), values.Length);
        }
        return estimates;
    }

    /// <summary>Percentiles of log10(bound/V) per bound over the entries with V &gt; 0 and bound &gt; 0, and how many were left out.</summary>
    private static (Dictionary<QuantityInfo, TightnessStatistics>, Dictionary<QuantityInfo, int>) TightnessOf(Dictionary<QuantityInfo, double[]> arrays)
    {
        var tightness = new Dictionary<QuantityInfo, TightnessStatistics>();
        var excluded = new Dictionary<QuantityInfo, int>();
        foreach (var bound in QuantityCatalog.With(QuantityRole.Bound))
        {
            if (!arrays.TryGetValue(bound, out var b) || !arrays.TryGetValue(QuantityCatalog.Of(bound.BoundedStream), out var v) || v.Length != b.Length)
                continue;
            var logs = new List<double>(v.Length);
            for (int i = 0; i < v.Length; i++)
            {
                if (v[i] > 0 && b[i] > 0 && double.IsFinite(v[i]) && double.IsFinite(b[i]))
                    logs.Add(Math.Log10(b[i] / v[i]));
            }
            excluded[bound] = v.Length - logs.Count;
            if (logs.Count > 0)
                tightness[bound] = Percentiles(logs, v.Length - logs.Count);
        }
        return (tightness, excluded);
    }

    /// <summary>
    /// The split of each estimate's variance (docs/estimators.md §3.2): the result's <c>var_inputs</c> and
    /// <c>_var_labels</c> (closed form or from K ≥ 2 draws, as summary.json says); for files without them, the mean
    /// V1 or V2 with N·Var(exact) as the input part.
    /// </summary>
    private static Dictionary<QuantityInfo, VarianceSplitStatistics> SplitsOf(JobResult result,
        Dictionary<QuantityInfo, (EstimateStatistics Statistics, long Size)> estimates, Dictionary<QuantityInfo, double> means, Func<string, double[]?> collect)
    {
        var splits = new Dictionary<QuantityInfo, VarianceSplitStatistics>();
        var inputPart = collect(QuantityCatalog.InputVarianceKey) is { } vi ? FiniteMean(vi) : null;
        long? n = estimates.TryGetValue(QuantityCatalog.Exact, out var exact) ? exact.Statistics.Count ?? result.Summary.Inputs : result.Summary.Inputs;
        var exactVar = collect(QuantityCatalog.Exact.VarianceKey) is { } ev ? FiniteMean(ev) : null;
        foreach (var estimate in QuantityCatalog.Estimates)
        {
            if (QuantityCatalog.VarianceOf(estimate) is not { } variance)
                continue;
            var labelPart = collect(estimate.LabelPartKey) is { } vl ? FiniteMean(vl) : null;
            bool closedForm = result.Summary.Groups.Any(g => g.Quantity(estimate)?.VarianceGivenInputs == EstimateVariance.ClosedFormLabelsBasis);
            if (inputPart is { } input && labelPart is { } label)
                splits[estimate] = new VarianceSplitStatistics(input, label, result.Draws, closedForm ? SplitSource.ClosedForm : SplitSource.Draws);
            else if (exactVar is { } ex && n is > 0 && means.TryGetValue(variance, out var closed))
                splits[estimate] = new VarianceSplitStatistics(ex * n.Value, closed, result.Draws, SplitSource.ClosedForm);
        }
        return splits;
    }

    private static (double Mean, double Max)? NegativeShareOf(Func<string, double[]?> collect)
    {
        (double, double)? negative = null;
        foreach (var share in QuantityCatalog.With(QuantityRole.Share))
        {
            if (collect(share.TensorKey) is { } shares && shares.Any(double.IsFinite))
            {
                var finite = shares.Where(double.IsFinite).ToArray();
                negative = (finite.Average(), finite.Max());
            }
        }
        return negative;
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
