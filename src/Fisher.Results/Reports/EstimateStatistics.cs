namespace Fisher.Results.Reports;

/// <summary>A group's mean diagonal entry of one estimate and the standard error of that mean.</summary>
/// <param name="Mean">Σ entries / size over the group's parameters.</param>
/// <param name="StandardError">√(Σ variances) / size (from the <c>_var</c> tensors), or NaN without them.</param>
/// <param name="RelativeStandardError">‖s.e.‖₂ / ‖estimate‖₂ over the group (summary.json's, else computed).</param>
/// <param name="Count">The stream's sample count (summary.json), when stated.</param>
internal sealed record EstimateStatistics(double Mean, double StandardError, double RelativeStandardError, long? Count, double? InputsNeeded = null);
