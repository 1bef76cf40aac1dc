namespace Fisher.Contracts;

/// <summary>
/// Precision of one group's estimate: the inputs merged, ‖Î‖₂², and Σ_p of the per-input sample variances
/// (of per-input means when there are several draws per input), from which relative standard errors and
/// sample sizes follow (Fisher.Estimators.Precision).
/// </summary>
[GenerateSerializer, Immutable, Alias("fisher.PrecisionInfo")]
public sealed record PrecisionInfo(
    [property: Id(0)] string Group,
    [property: Id(1)] string Quantity,
    [property: Id(2)] long Inputs,
    [property: Id(3)] double SumOfSquaredEstimates,
    [property: Id(4)] double SumOfPerInputVariances);
