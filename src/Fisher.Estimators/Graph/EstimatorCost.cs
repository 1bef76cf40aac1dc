namespace Fisher.Estimators.Graph;

/// <summary>
/// The estimated work of one input (multiply-adds, all requested quantities), the part of it that the exact per-sample
/// Hessian diagonal (Î2, V2 and its bounds) adds through unit streams, the working memory per input, and the layer
/// whose second-order rows cost most (or, without second-order work, the costliest layer): what a planner weighs
/// against its budget (docs/estimators.md §9.7).
/// </summary>
public sealed record EstimatorCost(double MultiplyAddsPerInput, double SecondOrderPerInput, long BytesPerInput, string DrivingLayer)
{
    /// <summary>Second-order multiply-adds per input by parameter layer, costliest first.</summary>
    public IReadOnlyList<(string Layer, double MultiplyAdds)> SecondOrderByLayer { get; init; } = [];
}
