namespace Fisher.Estimators;

/// <summary>
/// Per-parameter estimates of the label/input variance split of an estimator with K label draws per input
/// (estimators.md §3.2): <see cref="LabelPart"/> estimates E_x V(θ|x), <see cref="InputPart"/> estimates
/// Var_x I(θ|x), and <see cref="VarianceOfEstimate"/> is the variance of Î = (1/(NK)) Σ terms, so that
/// VarianceOfEstimate·N = InputPart + LabelPart/K. Entries that need K ≥ 2 (or N ≥ 2) are NaN otherwise.
/// </summary>
public sealed record VarianceSplit(double[] LabelPart, double[] InputPart, double[] VarianceOfEstimate)
{
    /// <summary>
    /// The split from the moments of the per-sample terms (<paramref name="all"/>: count N·K, e.g. the <c>i1</c>
    /// stream) and of their per-input means over the K draws (<paramref name="inputMeans"/>: count N, e.g.
    /// <c>i1_input_mean</c>). One-way analysis of variance: the within-input sum of squares is
    /// W = M2_all − K·M2_means, so E_x V̂ = W/(N(K−1)) (unbiased for E_x V(θ|x)), the sample variance of the input
    /// means is s² = M2_means/(N−1) with E s² = Var_x I + E_x V/K, hence Var_x Î = s² − E_x V̂/K (unbiased, may be
    /// negative), and Var(Î) = s²/N — not M2_all/((NK−1)NK), which treats the K correlated draws of an input as
    /// independent.
    /// </summary>
    public static VarianceSplit Compute(Moments all, Moments inputMeans, int draws)
    {
        ArgumentNullException.ThrowIfNull(all);
        ArgumentNullException.ThrowIfNull(inputMeans);
        ArgumentOutOfRangeException.ThrowIfLessThan(draws, 1);
        if (all.Length != inputMeans.Length)
            throw new ArgumentException($"the term moments have {all.Length} elements but the input means {inputMeans.Length}", nameof(inputMeans));
        long inputs = inputMeans.Count;
        if (all.Count != inputs * draws)
            throw new ArgumentException($"expected {inputs} inputs x {draws} draws = {inputs * draws} terms, got {all.Count}", nameof(all));

        int length = all.Length;
        var label = new double[length];
        var input = new double[length];
        var estimate = new double[length];
        for (int i = 0; i < length; i++)
        {
            double meansVariance = inputs > 1 ? inputMeans.M2[i] / (inputs - 1) : double.NaN;
            double within = draws > 1 && inputs > 0
                ? Math.Max(0.0, all.M2[i] - draws * inputMeans.M2[i]) / (inputs * (draws - 1.0))
                : double.NaN;
            label[i] = within;
            input[i] = meansVariance - within / draws;
            estimate[i] = meansVariance / inputs;
        }
        return new VarianceSplit(label, input, estimate);
    }

    /// <summary>
    /// The split of Î1 (<paramref name="estimator"/> = <see cref="FisherQuantity.SquaredScore"/>, needs
    /// <c>i1</c> and <c>i1_input_mean</c>) or Î2 (<see cref="FisherQuantity.NegativeHessian"/>, needs <c>i2</c> and
    /// <c>i2_input_mean</c>) of one parameter tensor, with K = the ratio of the two counts.
    /// </summary>
    public static VarianceSplit Compute(FisherMoments moments, string parameter, FisherQuantity estimator)
    {
        ArgumentNullException.ThrowIfNull(moments);
        var means = estimator switch
        {
            FisherQuantity.SquaredScore => FisherQuantity.SquaredScoreInputMean,
            FisherQuantity.NegativeHessian => FisherQuantity.NegativeHessianInputMean,
            _ => throw new ArgumentOutOfRangeException(nameof(estimator), estimator, "expected SquaredScore or NegativeHessian"),
        };
        var all = moments[parameter, estimator];
        var inputMeans = moments[parameter, means];
        if (inputMeans.Count == 0 || all.Count % inputMeans.Count != 0)
            throw new ArgumentException($"{parameter}: {all.Count} terms are not a whole number of draws of {inputMeans.Count} inputs", nameof(moments));
        return Compute(all, inputMeans, (int)(all.Count / inputMeans.Count));
    }
}
