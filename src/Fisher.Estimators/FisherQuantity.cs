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

    /// <summary>Third power of the exact per-input diagonal, I(θ|x)³: its mean with those of the exact stream gives the skewness of I over inputs (§3.5).</summary>
    ExactThirdPower = 8192,

    /// <summary>Fourth power of the exact per-input diagonal, I(θ|x)⁴: with the above, its kurtosis over inputs (§3.5).</summary>
    ExactFourthPower = 16384,

    /// <summary>Third power of the per-input empirical Fisher term (§3.5).</summary>
    EmpiricalThirdPower = 32768,

    /// <summary>Fourth power of the per-input empirical Fisher term (§3.5).</summary>
    EmpiricalFourthPower = 65536,

    /// <summary>Third power of Î1's per-input values (the term with K = 1, the mean of the K draws otherwise, §3.5).</summary>
    SquaredScoreThirdPower = 131072,

    /// <summary>Fourth power of Î1's per-input values (§3.5).</summary>
    SquaredScoreFourthPower = 262144,

    /// <summary>Third power of Î2's per-input values (§3.5).</summary>
    NegativeHessianThirdPower = 524288,

    /// <summary>Fourth power of Î2's per-input values (§3.5).</summary>
    NegativeHessianFourthPower = 1048576,

    /// <summary>The six original quantities (Î1, Î2, exact, empirical, V1, V2): what <c>all</c> selects.</summary>
    All = SquaredScore | NegativeHessian | Exact | Empirical | SquaredScoreVariance | NegativeHessianVariance,

    /// <summary>The per-input label means of Î1 and Î2 (the label/input variance split, §3.2).</summary>
    InputMeans = SquaredScoreInputMean | NegativeHessianInputMean,

    /// <summary>The four variance bounds.</summary>
    Bounds = V1Upper | V1Lower | V2Upper | V2Lower,

    /// <summary>The third and fourth power sums of every estimate's per-input values (the shape of their distribution over inputs, §3.5).</summary>
    PowerSums = ExactThirdPower | ExactFourthPower | EmpiricalThirdPower | EmpiricalFourthPower
        | SquaredScoreThirdPower | SquaredScoreFourthPower | NegativeHessianThirdPower | NegativeHessianFourthPower,

    /// <summary>Every quantity, including the diagnostics (input means, share of negative Î2 terms, bounds, power sums).</summary>
    Everything = All | InputMeans | NegativeHessianNegative | Bounds | PowerSums,
}
