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

    /// <summary>Every quantity.</summary>
    All = SquaredScore | NegativeHessian | Exact | Empirical | SquaredScoreVariance | NegativeHessianVariance,
}

/// <summary>Names of quantities as used in result files (<c>i1</c>, <c>i2</c>, <c>exact</c>, <c>empirical</c>, <c>v1</c>, <c>v2</c>).</summary>
public static class FisherQuantityNames
{
    /// <summary>The single quantities in a fixed order.</summary>
    public static IReadOnlyList<FisherQuantity> Singles { get; } =
    [
        FisherQuantity.SquaredScore, FisherQuantity.NegativeHessian, FisherQuantity.Exact,
        FisherQuantity.Empirical, FisherQuantity.SquaredScoreVariance, FisherQuantity.NegativeHessianVariance,
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
        _ => throw new ArgumentOutOfRangeException(nameof(quantity), quantity, "not a single quantity"),
    };

    /// <summary>The single quantities contained in a set of flags.</summary>
    public static IEnumerable<FisherQuantity> Split(this FisherQuantity quantities) =>
        Singles.Where(q => quantities.HasFlag(q));

    /// <summary>Parses a key such as <c>i1</c> or a comma-separated list; <c>all</c> selects every quantity.</summary>
    public static FisherQuantity Parse(string text)
    {
        var result = FisherQuantity.None;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part.Equals("all", StringComparison.OrdinalIgnoreCase))
            {
                result |= FisherQuantity.All;
                continue;
            }
            var match = Singles.FirstOrDefault(q => q.Key().Equals(part, StringComparison.OrdinalIgnoreCase));
            if (match == FisherQuantity.None)
                throw new ArgumentException($"unknown quantity '{part}'; expected {string.Join(", ", Singles.Select(q => q.Key()))} or all", nameof(text));
            result |= match;
        }
        return result;
    }
}
