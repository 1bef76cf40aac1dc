using Fisher.Estimators;

namespace Fisher.Results;

/// <summary>
/// The variance of one parameter tensor's estimate, for each of its two targets, from the best sources the job
/// computed (docs/estimators.md §3.4): the one place that decides which variance an estimate carries. Every output
/// that shows an uncertainty (the <c>_var</c> tensors, summary.json's relative standard errors and inputs needed, the
/// <c>--target-rel-error</c> stopping rule, the report) reads it from here.
/// </summary>
/// <param name="OfDistribution">Var(Î) as an estimate of the Fisher of the input distribution, E_x I(θ|x).</param>
/// <param name="GivenInputs">Var(Î) as an estimate of the Fisher of these N inputs, (1/N) Σ_n I(θ|x_n); null when unknown (Î1 or Î2 with K = 1 and no closed form).</param>
/// <param name="LabelPart">Î1, Î2: the label part E_x V of one term's variance that <paramref name="GivenInputs"/> uses, else null.</param>
/// <param name="LabelPartFromDraws">Î1, Î2 with K ≥ 2 and the closed form: the label part estimated from the draws, the check beside the closed form.</param>
/// <param name="DistributionBasis">Where <paramref name="OfDistribution"/> comes from (one of the <c>*Basis</c> texts).</param>
/// <param name="GivenInputsBasis">Where <paramref name="GivenInputs"/> comes from, or null.</param>
public sealed record EstimateVariance(
    long Inputs,
    int Draws,
    double[] OfDistribution,
    double[]? GivenInputs,
    double[]? LabelPart,
    double[]? LabelPartFromDraws,
    string DistributionBasis,
    string? GivenInputsBasis)
{
    /// <summary>
    /// The skewness m3/m2^(3/2) of the per-input values behind <see cref="OfDistribution"/> over the N inputs (§3.5);
    /// null or NaN entries where unknown (the interval is then normal).
    /// </summary>
    public double[]? Skewness { get; init; }

    /// <summary>The kurtosis m4/m2² of the per-input values over the N inputs (§3.5); null or NaN where unknown.</summary>
    public double[]? Kurtosis { get; init; }

    /// <summary>The interval of <paramref name="estimate"/> (entry <paramref name="index"/>) for the input distribution's Fisher at <paramref name="level"/> (§3.5).</summary>
    public (double Lower, double Upper) IntervalOfDistribution(double estimate, int index, double level) =>
        ConfidenceInterval.Of(estimate, OfDistribution[index], level,
            Skewness is null || Kurtosis is null ? null : new InputShape(Skewness[index], Kurtosis[index], Inputs));

    /// <summary>The interval of <paramref name="estimate"/> (entry <paramref name="index"/>) for the Fisher of the job's inputs at <paramref name="level"/>: normal (§3.5).</summary>
    public (double Lower, double Upper) IntervalGivenInputs(double estimate, int index, double level) =>
        GivenInputs is null ? (double.NaN, double.NaN) : ConfidenceInterval.Of(estimate, GivenInputs[index], level);

    /// <summary>Label part: the closed-form E_x V over the N inputs; input part: the sample variance of the exact per-input diagonal.</summary>
    public const string ClosedFormBasis = "closed form: (Var_x I from the exact per-input diagonal + E_x V (v1, v2) / K) / N";

    /// <summary>Label part only, closed form.</summary>
    public const string ClosedFormLabelsBasis = "closed form: E_x V (v1, v2) / (N K)";

    /// <summary>From the per-input means of the K ≥ 2 draws (one-way analysis of variance).</summary>
    public const string DrawsBasis = "from the draws: sample variance of the per-input means of the K draws / N";

    /// <summary>Label part from the within-input spread of the K ≥ 2 draws.</summary>
    public const string DrawsLabelsBasis = "from the draws: within-input variance of the K draws / (N K)";

    /// <summary>The plain variance of the mean of independent per-sample values.</summary>
    public const string TermsBasis = "sample variance of the per-input values / N";

    /// <summary>The exact diagonal and the empirical Fisher are fixed given the inputs (and their observed labels).</summary>
    public const string NoLabelNoiseBasis = "0: no label draws";

    /// <summary>
    /// The variance of <paramref name="estimate"/> for <paramref name="parameter"/> from the merged streams
    /// (<paramref name="stream"/> by stream name), or null when the estimate's stream is missing.
    /// </summary>
    public static EstimateVariance? Of(QuantityInfo estimate, string parameter, Func<string, Moments?> stream)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        ArgumentNullException.ThrowIfNull(stream);
        if (!estimate.IsEstimate)
            throw new ArgumentException($"'{estimate.Key}' is not an estimate", nameof(estimate));
        var variance = Unshaped(estimate, parameter, stream);
        if (variance is null || ShapeOf(estimate, parameter, stream, variance) is not { } shape)
            return variance;
        return variance with { Skewness = shape.Skewness, Kurtosis = shape.Kurtosis };
    }

    /// <summary>
    /// Skewness and kurtosis of the estimate's per-input values from their power sums (§3.5), when
    /// streamed: central moments from the mean, M2 and the means of v³ and v⁴, each floored at the tensor's median.
    /// Entries whose values hardly vary
    /// (coefficient of variation below 3 %, where the power sums cancel beyond float32 products' precision) or whose
    /// moments come out inconsistent are NaN: their interval is normal.
    /// </summary>
    private static (double[] Skewness, double[] Kurtosis)? ShapeOf(QuantityInfo estimate, string parameter, Func<string, Moments?> stream, EstimateVariance variance)
    {
        if (estimate.ShapeStreams == FisherQuantity.None)
            return null;
        var powers = estimate.ShapeStreams.Split().ToArray();
        // The per-input values: the means of the K draws when streamed, else the estimate's own values (K = 1).
        var source = (estimate.InputMeanStream != FisherQuantity.None ? stream(estimate.InputMeanStream.StreamName(parameter)) : null)
            ?? stream(estimate.StreamName(parameter));
        if (source is null || powers.Length != 2
            || stream(powers[0].StreamName(parameter)) is not { } third || stream(powers[1].StreamName(parameter)) is not { } fourth
            || source.Count != variance.Inputs || third.Count != source.Count || fourth.Count != source.Count || third.Length != source.Length || fourth.Length != source.Length)
            return null;
        long n = source.Count;
        var skewness = new double[source.Length];
        var kurtosis = new double[source.Length];
        for (int i = 0; i < source.Length; i++)
        {
            double mu = source.Mean[i], m2 = source.M2[i] / n, e2 = m2 + mu * mu, e3 = third.Mean[i], e4 = fourth.Mean[i];
            double m3 = e3 - 3 * mu * e2 + 2 * mu * mu * mu;
            double m4 = e4 - 4 * mu * e3 + 6 * mu * mu * e2 - 3 * mu * mu * mu * mu;
            bool usable = m2 > 9e-4 * e2 && m4 > 0 && double.IsFinite(m3) && double.IsFinite(m4);
            skewness[i] = usable ? m3 / (m2 * Math.Sqrt(m2)) : double.NaN;
            kurtosis[i] = usable ? Math.Max(m4 / (m2 * m2), 1 + (m3 * m3) / (m2 * m2 * m2)) : double.NaN;
        }
        // The sample skewness and kurtosis of heavy-tailed values come out low, most of all for the entries whose inputs
        // missed the tail; the entries of one tensor share where their tails come from (the layer's inputs and units), so
        // the tensor's median is a floor for each entry (§3.5; the calibration suite measures the effect).
        double kurtosisFloor = Median(kurtosis), skewnessFloor = Median(skewness);
        for (int i = 0; i < kurtosis.Length; i++)
        {
            if (double.IsFinite(kurtosis[i]) && double.IsFinite(kurtosisFloor))
                kurtosis[i] = Math.Max(kurtosis[i], kurtosisFloor);
            if (double.IsFinite(skewness[i]) && skewnessFloor > 0)
                skewness[i] = Math.Max(skewness[i], skewnessFloor);
        }
        return (skewness, kurtosis);
    }

    /// <summary>The median of the finite values (NaN when there are none).</summary>
    private static double Median(double[] values)
    {
        var finite = values.Where(double.IsFinite).ToArray();
        if (finite.Length == 0)
            return double.NaN;
        Array.Sort(finite);
        return finite[finite.Length / 2];
    }

    private static EstimateVariance? Unshaped(QuantityInfo estimate, string parameter, Func<string, Moments?> stream)
    {
        if (stream(estimate.StreamName(parameter)) is not { } terms)
            return null;
        if (estimate.ConditionalVarianceStream == FisherQuantity.None)
            return new EstimateVariance(terms.Count, 1, terms.VarianceOfMean(), new double[terms.Length], null, null, TermsBasis, NoLabelNoiseBasis);

        var means = estimate.InputMeanStream != FisherQuantity.None ? stream(estimate.InputMeanStream.StreamName(parameter)) : null;
        var closed = stream(estimate.ConditionalVarianceStream.StreamName(parameter));
        long inputs = means?.Count ?? closed?.Count ?? terms.Count;
        if (inputs < 1 || terms.Count % inputs != 0 || terms.Count / inputs > int.MaxValue
            || (means is not null && means.Length != terms.Length) || (closed is not null && (closed.Length != terms.Length || closed.Count != inputs)))
            throw new ArgumentException($"{parameter}: the streams of {estimate.Key} do not describe one set of inputs ({terms.Count} terms, {means?.Count} input means, {closed?.Count} closed-form variances)", nameof(stream));
        int draws = (int)(terms.Count / inputs);

        // From the draws: the per-input means when K ≥ 2 (the draws of one input are correlated), else the terms.
        var split = means is not null && draws >= 2 ? VarianceSplit.Compute(terms, means, draws) : null;
        var fromDraws = split?.VarianceOfEstimate ?? terms.VarianceOfMean();
        string drawsBasis = split is not null ? DrawsBasis : TermsBasis;
        if (closed is null)
        {
            var given = split is null ? null : Scale(split.LabelPart, 1.0 / ((double)inputs * draws));
            return new EstimateVariance(inputs, draws, fromDraws, given, split?.LabelPart, null, drawsBasis, given is null ? null : DrawsLabelsBasis);
        }

        var label = closed.Mean;
        var givenInputs = Scale(label, 1.0 / ((double)inputs * draws));
        var exact = stream(FisherQuantity.Exact.StreamName(parameter));
        if (exact is null || exact.Count != inputs || exact.Length != terms.Length || inputs < 2)
            return new EstimateVariance(inputs, draws, fromDraws, givenInputs, label, split?.LabelPart, drawsBasis, ClosedFormLabelsBasis);
        var inputPart = exact.SampleVariance();
        var distribution = new double[terms.Length];
        for (int i = 0; i < distribution.Length; i++)
            distribution[i] = (inputPart[i] + label[i] / draws) / inputs;
        return new EstimateVariance(inputs, draws, distribution, givenInputs, label, split?.LabelPart, ClosedFormBasis, ClosedFormLabelsBasis);
    }

    private static double[] Scale(double[] values, double factor)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
            result[i] = values[i] * factor;
        return result;
    }
}
