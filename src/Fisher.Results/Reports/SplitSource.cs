namespace Fisher.Results.Reports;

/// <summary>Where a variance split comes from.</summary>
internal enum SplitSource
{
    /// <summary><c>var_inputs</c> and <c>i1_var_labels</c>/<c>i2_var_labels</c>, estimated from K ≥ 2 draws per input.</summary>
    Draws,

    /// <summary>Label part: the closed-form mean V1/V2; input part: the sample variance of the exact per-input diagonal (it has no label noise).</summary>
    ClosedForm,
}
