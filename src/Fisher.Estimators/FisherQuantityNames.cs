namespace Fisher.Estimators;

/// <summary>
/// Names of quantities as used in result files (<c>i1</c>, <c>i2</c>, <c>exact</c>, <c>empirical</c>, <c>v1</c>, <c>v2</c>,
/// and the diagnostics <c>i1_input_mean</c>, <c>i2_input_mean</c>, <c>i2_negative</c>, <c>v1_upper</c>, <c>v1_lower</c>,
/// <c>v2_upper</c>, <c>v2_lower</c>, and the power sums <c>exact_p3</c>, <c>exact_p4</c>, <c>empirical_p3</c>, <c>empirical_p4</c>, <c>i1_p3</c>, <c>i1_p4</c>,
/// <c>i2_p3</c>, <c>i2_p4</c>).
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
        FisherQuantity.ExactThirdPower, FisherQuantity.ExactFourthPower, FisherQuantity.EmpiricalThirdPower, FisherQuantity.EmpiricalFourthPower,
        FisherQuantity.SquaredScoreThirdPower, FisherQuantity.SquaredScoreFourthPower, FisherQuantity.NegativeHessianThirdPower, FisherQuantity.NegativeHessianFourthPower,
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
        FisherQuantity.ExactThirdPower => "exact_p3",
        FisherQuantity.ExactFourthPower => "exact_p4",
        FisherQuantity.EmpiricalThirdPower => "empirical_p3",
        FisherQuantity.EmpiricalFourthPower => "empirical_p4",
        FisherQuantity.SquaredScoreThirdPower => "i1_p3",
        FisherQuantity.SquaredScoreFourthPower => "i1_p4",
        FisherQuantity.NegativeHessianThirdPower => "i2_p3",
        FisherQuantity.NegativeHessianFourthPower => "i2_p4",
        _ => throw new ArgumentOutOfRangeException(nameof(quantity), quantity, "not a single quantity"),
    };

    /// <summary>The single quantities contained in a set of flags.</summary>
    public static IEnumerable<FisherQuantity> Split(this FisherQuantity quantities) =>
        Singles.Where(q => quantities.HasFlag(q));

    /// <summary>The name of the stream of <paramref name="quantity"/> for <paramref name="parameter"/>: <c>&lt;parameter&gt;.&lt;key&gt;</c>.</summary>
    public static string StreamName(this FisherQuantity quantity, string parameter) => $"{parameter}.{quantity.Key()}";

    /// <summary>The single quantities of <paramref name="quantities"/> as a comma-separated list of their keys, in <see cref="Singles"/> order.</summary>
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
