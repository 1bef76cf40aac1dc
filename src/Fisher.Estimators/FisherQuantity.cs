namespace Fisher.Estimators;

/// <summary>The per-sample quantities the estimator can stream into moments (estimators.md §9.4).</summary>
[Flags]
public enum FisherQuantity
{
    None = 0,

    /// <summary>Î1: squared score with labels drawn from the model (one value per input and draw).</summary>
    SquaredScore = 1,

    /// <summary>Î2: negative diagonal of the log-likelihood Hessian with labels drawn from the model.</summary>
    NegativeHessian = 2,

    /// <summary>The exact conditional diagonal Fisher I(θ|x) = J_iᵀ Σ J_i (one value per input).</summary>
    Exact = 4,

    /// <summary>The empirical Fisher: squared score with the observed label (one value per input).</summary>
    Empirical = 8,

    /// <summary>V1(θ|x) = Var_y[Î1-term | x], closed form (one value per input).</summary>
    SquaredScoreVariance = 16,

    /// <summary>V2(θ|x) = Var_y[Î2-term | x] = H_iᵀ Σ H_i, closed form (one value per input).</summary>
    NegativeHessianVariance = 32,

    /// <summary>
    /// Per input, the mean over its K label draws of the Î1 term (one value per input, count N; estimators.md §3.2).
    /// With the Î1 stream (count N·K) it splits the variance into label and input parts, see <see cref="VarianceSplit"/>.
    /// </summary>
    SquaredScoreInputMean = 64,

    /// <summary>Per input, the mean over its K label draws of the Î2 term (one value per input, count N).</summary>
    NegativeHessianInputMean = 128,

    /// <summary>
    /// Per input and draw, the indicator 1[Î2 term &lt; 0] (§7.2, identity 16): its mean is the share of negative terms.
    /// </summary>
    NegativeHessianNegative = 256,

    /// <summary>Upper bound of V1(θ|x): λmax(Ψ)·‖J_i‖⁴, Ψ = Cov(e⊗e); softmax: ‖PJ_i‖⁴ (§4.2; one value per input).</summary>
    V1Upper = 512,

    /// <summary>
    /// Lower bound of V1(θ|x): λmin of Ψ on symmetric arguments times ‖J_i‖⁴ (Gaussian: equals V1; softmax with
    /// C ≥ 3: 0; one value per input).
    /// </summary>
    V1Lower = 1024,

    /// <summary>Upper bound of V2(θ|x): λmax(Σ_f)·‖H_i‖²; softmax: λmax·‖PH_i‖² (§4.1; one value per input).</summary>
    V2Upper = 2048,

    /// <summary>Lower bound of V2(θ|x): λmin(Σ_f)·‖H_i‖²; softmax: λ+min on 1⊥ times ‖PH_i‖² (§4.1; one value per input).</summary>
    V2Lower = 4096,

    /// <summary>The six original quantities (Î1, Î2, exact, empirical, V1, V2): what <c>all</c> selects.</summary>
    All = SquaredScore | NegativeHessian | Exact | Empirical | SquaredScoreVariance | NegativeHessianVariance,

    /// <summary>The per-input label means of Î1 and Î2 (the label/input variance split, §3.2).</summary>
    InputMeans = SquaredScoreInputMean | NegativeHessianInputMean,

    /// <summary>The four variance bounds.</summary>
    Bounds = V1Upper | V1Lower | V2Upper | V2Lower,

    /// <summary>Every quantity, including the diagnostics (input means, share of negative Î2 terms, bounds).</summary>
    Everything = All | InputMeans | NegativeHessianNegative | Bounds,
}

/// <summary>
/// Names of quantities as used in result files (<c>i1</c>, <c>i2</c>, <c>exact</c>, <c>empirical</c>, <c>v1</c>, <c>v2</c>,
/// and the diagnostics <c>i1_input_mean</c>, <c>i2_input_mean</c>, <c>i2_negative</c>, <c>v1_upper</c>, <c>v1_lower</c>,
/// <c>v2_upper</c>, <c>v2_lower</c>).
/// </summary>
public static class FisherQuantityNames
{
    /// <summary>The single quantities in a fixed order.</summary>
    public static IReadOnlyList<FisherQuantity> Singles { get; } =
    [
        FisherQuantity.SquaredScore, FisherQuantity.NegativeHessian, FisherQuantity.Exact,
        FisherQuantity.Empirical, FisherQuantity.SquaredScoreVariance, FisherQuantity.NegativeHessianVariance,
        FisherQuantity.SquaredScoreInputMean, FisherQuantity.NegativeHessianInputMean, FisherQuantity.NegativeHessianNegative,
        FisherQuantity.V1Upper, FisherQuantity.V1Lower, FisherQuantity.V2Upper, FisherQuantity.V2Lower,
    ];

    /// <summary>The file name of one quantity.</summary>
    public static string Key(this FisherQuantity quantity) => quantity switch
    {
        FisherQuantity.SquaredScore => "i1",
        FisherQuantity.NegativeHessian => "i2",
        FisherQuantity.Exact => "exact",
        FisherQuantity.Empirical => "empirical",
        FisherQuantity.SquaredScoreVariance => "v1",
        FisherQuantity.NegativeHessianVariance => "v2",
        FisherQuantity.SquaredScoreInputMean => "i1_input_mean",
        FisherQuantity.NegativeHessianInputMean => "i2_input_mean",
        FisherQuantity.NegativeHessianNegative => "i2_negative",
        FisherQuantity.V1Upper => "v1_upper",
        FisherQuantity.V1Lower => "v1_lower",
        FisherQuantity.V2Upper => "v2_upper",
        FisherQuantity.V2Lower => "v2_lower",
        _ => throw new ArgumentOutOfRangeException(nameof(quantity), quantity, "not a single quantity"),
    };

    /// <summary>The single quantities contained in a set of flags.</summary>
    public static IEnumerable<FisherQuantity> Split(this FisherQuantity quantities) =>
        Singles.Where(q => quantities.HasFlag(q));

    /// <summary>The single quantities of <paramref name="quantities"/> as a comma-separated list of keys ("i1,i2,exact").</summary>
    public static string ToKeyList(this FisherQuantity quantities) => string.Join(",", quantities.Split().Select(q => q.Key()));

    /// <summary>
    /// Parses a key such as <c>i1</c> or a comma-separated list; <c>all</c> selects the six original quantities
    /// (<see cref="FisherQuantity.All"/>), <c>bounds</c> the four bounds, <c>everything</c> every quantity.
    /// </summary>
    public static FisherQuantity Parse(string text)
    {
        var result = FisherQuantity.None;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var set = part.ToLowerInvariant() switch
            {
                "all" => FisherQuantity.All,
                "bounds" => FisherQuantity.Bounds,
                "everything" => FisherQuantity.Everything,
                _ => FisherQuantity.None,
            };
            if (set != FisherQuantity.None)
            {
                result |= set;
                continue;
            }
            var match = Singles.FirstOrDefault(q => q.Key().Equals(part, StringComparison.OrdinalIgnoreCase));
            if (match == FisherQuantity.None)
                throw new ArgumentException($"unknown quantity '{part}'; expected {string.Join(", ", Singles.Select(q => q.Key()))} , all, bounds or everything", nameof(text));
            result |= match;
        }
        return result;
    }
}
