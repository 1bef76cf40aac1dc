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
