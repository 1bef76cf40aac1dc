using Fisher.Estimators;

namespace Fisher.Results;

/// <summary>
/// The quantities a result can contain, in the order they are written and shown: the one place that says which are
/// estimates, what derives from them and how they are displayed (docs/estimators.md §9.4 for the streams).
/// </summary>
public static class QuantityCatalog
{
    /// <summary>Î1: squared score with labels drawn from the model (§2).</summary>
    public static QuantityInfo SquaredScore { get; } = Create(new QuantityInfo
    {
        Stream = FisherQuantity.SquaredScore, Symbol = "Î1", Label = "Î1 (squared score, sampled labels)", Role = QuantityRole.Estimate,
        InputMeanStream = FisherQuantity.SquaredScoreInputMean, ConditionalVarianceStream = FisherQuantity.SquaredScoreVariance, Colour = 0,
        ShapeStreams = FisherQuantity.SquaredScoreThirdPower | FisherQuantity.SquaredScoreFourthPower,
    });

    /// <summary>Î2: negative Hessian diagonal with labels drawn from the model (§2).</summary>
    public static QuantityInfo NegativeHessian { get; } = Create(new QuantityInfo
    {
        Stream = FisherQuantity.NegativeHessian, Symbol = "Î2", Label = "Î2 (negative Hessian)", Role = QuantityRole.Estimate,
        InputMeanStream = FisherQuantity.NegativeHessianInputMean, ConditionalVarianceStream = FisherQuantity.NegativeHessianVariance, Colour = 1,
        ShapeStreams = FisherQuantity.NegativeHessianThirdPower | FisherQuantity.NegativeHessianFourthPower,
    });

    /// <summary>The exact conditional diagonal averaged over inputs (§1); it has no label noise.</summary>
    public static QuantityInfo Exact { get; } = Create(new QuantityInfo
    {
        Stream = FisherQuantity.Exact, Symbol = "exact", Label = "exact diagonal", Role = QuantityRole.Estimate, Colour = 2,
        ShapeStreams = FisherQuantity.ExactThirdPower | FisherQuantity.ExactFourthPower,
    });

    /// <summary>Every quantity, in file and display order.</summary>
    public static IReadOnlyList<QuantityInfo> All { get; } =
    [
        SquaredScore,
        NegativeHessian,
        Exact,
        Create(new QuantityInfo
        {
            Stream = FisherQuantity.Empirical, Symbol = "empirical", Label = "empirical Fisher (observed labels)", Role = QuantityRole.Estimate, Colour = 3,
            ShapeStreams = FisherQuantity.EmpiricalThirdPower | FisherQuantity.EmpiricalFourthPower,
        }),
        Create(new QuantityInfo { Stream = FisherQuantity.SquaredScoreVariance, Symbol = "V1", Label = "E_x V1 (Î1)", Role = QuantityRole.ConditionalVariance, Colour = 0 }),
        Create(new QuantityInfo { Stream = FisherQuantity.NegativeHessianVariance, Symbol = "V2", Label = "E_x V2 (Î2)", Role = QuantityRole.ConditionalVariance, Colour = 1 }),
        Create(new QuantityInfo { Stream = FisherQuantity.SquaredScoreInputMean, Symbol = "Î1 input means", Label = "per-input means of Î1", Role = QuantityRole.InputMean }),
        Create(new QuantityInfo { Stream = FisherQuantity.NegativeHessianInputMean, Symbol = "Î2 input means", Label = "per-input means of Î2", Role = QuantityRole.InputMean }),
        Create(new QuantityInfo { Stream = FisherQuantity.NegativeHessianNegative, TensorKey = "i2_negative_share", Symbol = "Î2 < 0", Label = "share of negative Î2 terms", Role = QuantityRole.Share, Colour = 1 }),
        Create(new QuantityInfo { Stream = FisherQuantity.V1Upper, Symbol = "Î1 upper", Label = "upper bound of V1", Role = QuantityRole.Bound, BoundedStream = FisherQuantity.SquaredScoreVariance, IsUpperBound = true, Colour = 0 }),
        Create(new QuantityInfo { Stream = FisherQuantity.V1Lower, Symbol = "Î1 lower", Label = "lower bound of V1", Role = QuantityRole.Bound, BoundedStream = FisherQuantity.SquaredScoreVariance, Colour = 0 }),
        Create(new QuantityInfo { Stream = FisherQuantity.V2Upper, Symbol = "Î2 upper", Label = "upper bound of V2", Role = QuantityRole.Bound, BoundedStream = FisherQuantity.NegativeHessianVariance, IsUpperBound = true, Colour = 1 }),
        Create(new QuantityInfo { Stream = FisherQuantity.V2Lower, Symbol = "Î2 lower", Label = "lower bound of V2", Role = QuantityRole.Bound, BoundedStream = FisherQuantity.NegativeHessianVariance, Colour = 1 }),
        Create(new QuantityInfo { Stream = FisherQuantity.ExactThirdPower, Symbol = "exact³", Label = "third power of the exact per-input diagonal", Role = QuantityRole.PowerSum }),
        Create(new QuantityInfo { Stream = FisherQuantity.ExactFourthPower, Symbol = "exact⁴", Label = "fourth power of the exact per-input diagonal", Role = QuantityRole.PowerSum }),
        Create(new QuantityInfo { Stream = FisherQuantity.EmpiricalThirdPower, Symbol = "empirical³", Label = "third power of the per-input empirical Fisher", Role = QuantityRole.PowerSum }),
        Create(new QuantityInfo { Stream = FisherQuantity.EmpiricalFourthPower, Symbol = "empirical⁴", Label = "fourth power of the per-input empirical Fisher", Role = QuantityRole.PowerSum }),
        Create(new QuantityInfo { Stream = FisherQuantity.SquaredScoreThirdPower, Symbol = "Î1³", Label = "third power of Î1's per-input values", Role = QuantityRole.PowerSum }),
        Create(new QuantityInfo { Stream = FisherQuantity.SquaredScoreFourthPower, Symbol = "Î1⁴", Label = "fourth power of Î1's per-input values", Role = QuantityRole.PowerSum }),
        Create(new QuantityInfo { Stream = FisherQuantity.NegativeHessianThirdPower, Symbol = "Î2³", Label = "third power of Î2's per-input values", Role = QuantityRole.PowerSum }),
        Create(new QuantityInfo { Stream = FisherQuantity.NegativeHessianFourthPower, Symbol = "Î2⁴", Label = "fourth power of Î2's per-input values", Role = QuantityRole.PowerSum }),
    ];

    /// <summary>The tensor suffix of Var_x I(θ|x), the input part of every estimate's variance (§3.2).</summary>
    public const string InputVarianceKey = "var_inputs";

    /// <summary>The estimates, in order.</summary>
    public static IReadOnlyList<QuantityInfo> Estimates { get; } = All.Where(q => q.IsEstimate).ToArray();

    /// <summary>The quantities written to result files, in order.</summary>
    public static IReadOnlyList<QuantityInfo> Written { get; } = All.Where(q => q.IsWritten).ToArray();

    /// <summary>The quantity read from <paramref name="stream"/>.</summary>
    public static QuantityInfo Of(FisherQuantity stream) =>
        All.FirstOrDefault(q => q.Stream == stream) ?? throw new ArgumentOutOfRangeException(nameof(stream), stream, "not in the quantity catalog");

    /// <summary>The estimate whose per-sample term has the conditional variance <paramref name="variance"/> (V1: Î1).</summary>
    public static QuantityInfo EstimateOf(QuantityInfo variance) =>
        Estimates.First(q => q.ConditionalVarianceStream == (variance ?? throw new ArgumentNullException(nameof(variance))).Stream);

    /// <summary>The conditional variance of one term of <paramref name="estimate"/> (Î1: V1), or null.</summary>
    public static QuantityInfo? VarianceOf(QuantityInfo estimate) =>
        (estimate ?? throw new ArgumentNullException(nameof(estimate))).ConditionalVarianceStream == FisherQuantity.None ? null : Of(estimate.ConditionalVarianceStream);

    /// <summary>The bounds of the conditional variance <paramref name="variance"/>, upper first.</summary>
    public static IReadOnlyList<QuantityInfo> BoundsOf(QuantityInfo variance) =>
        All.Where(q => q.Role == QuantityRole.Bound && q.BoundedStream == (variance ?? throw new ArgumentNullException(nameof(variance))).Stream)
            .OrderByDescending(q => q.IsUpperBound).ToArray();

    /// <summary>The quantities with role <paramref name="role"/>, in order.</summary>
    public static IReadOnlyList<QuantityInfo> With(QuantityRole role) => All.Where(q => q.Role == role).ToArray();

    /// <summary>The quantity with result key <paramref name="key"/>, or null.</summary>
    public static QuantityInfo? Find(string key) => All.FirstOrDefault(q => q.Key == key);

    /// <summary>The estimates among <paramref name="quantities"/> (those a target relative error applies to).</summary>
    public static IReadOnlyList<QuantityInfo> EstimatesIn(FisherQuantity quantities) =>
        Estimates.Where(q => quantities.HasFlag(q.Stream)).ToArray();

    /// <summary>
    /// The precision of <paramref name="estimate"/> over <paramref name="parameters"/> as an estimate of the Fisher of the
    /// input distribution, from each parameter's <see cref="EstimateVariance"/> (Chebyshev sample sizes, §7.1); null
    /// when no parameter has the estimate.
    /// </summary>
    public static Precision? PrecisionOf(this QuantityInfo estimate, IEnumerable<string> parameters, Func<string, Moments?> stream) =>
        PrecisionOf(estimate, parameters, stream, v => v.OfDistribution);

    /// <summary>As <see cref="PrecisionOf(QuantityInfo, IEnumerable{string}, Func{string, Moments?})"/>, with the variance <paramref name="variance"/> picks (null: unknown, and so is the precision).</summary>
    public static Precision? PrecisionOf(this QuantityInfo estimate, IEnumerable<string> parameters, Func<string, Moments?> stream, Func<EstimateVariance, double[]?> variance)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(variance);
        long inputs = -1;
        double squares = 0, variances = 0;
        foreach (var parameter in parameters)
        {
            if (EstimateVariance.Of(estimate, parameter, stream) is not { } v)
                continue;
            if (inputs >= 0 && v.Inputs != inputs)
                throw new ArgumentException($"the parameters of one group must have the same input count ({inputs} and {v.Inputs})", nameof(stream));
            inputs = v.Inputs;
            if (variance(v) is not { } values)
                return null;
            var mean = stream(estimate.StreamName(parameter))!.Mean;
            for (int i = 0; i < mean.Length; i++)
            {
                squares += mean[i] * mean[i];
                if (double.IsFinite(values[i]))
                    variances += values[i] * v.Inputs; // Precision holds per-input variances: N·Var(Î)
            }
        }
        return inputs < 0 ? null : new Precision(inputs, squares, variances);
    }

    private static QuantityInfo Create(QuantityInfo info)
    {
        var key = info.Key.Length > 0 ? info.Key : info.Stream.Key();
        return info with { Key = key, TensorKey = info.TensorKey.Length > 0 ? info.TensorKey : key };
    }
}
