namespace Fisher.Results;

/// <summary>The texts that result files carry to say what their numbers are (one place, read by every writer).</summary>
internal static class ResultMeaning
{
    public const string RelativeStandardError =
        "per group: ||standard errors||_2 / ||estimates||_2 over the group's parameters, as an estimate of the Fisher of the input distribution; "
        + "relativeStandardErrorGivenInputs: of the Fisher of the job's inputs (label noise only); variance, varianceGivenInputs: where each standard error comes from (docs/estimators.md §3.4)";

    public const string InputsNeeded =
        "per group and estimate: inputs for relative error epsilon with probability 1 - delta (Chebyshev on the group's diagonal as a vector, docs/estimators.md §7.1)";

    public const string Decision =
        "per group: the estimator with the lower label variance E_x V (the input part Var_x I is common to both, docs/estimators.md §3.2); basis: which quantities were compared";

    public const string TensorFormat =
        "fisher.safetensors/1: <parameter>.<quantity> is the estimate (mean over inputs and label draws); <parameter>.<quantity>_var the variance of that estimate for the input distribution's Fisher, <quantity>_var_given_inputs for the Fisher of the job's inputs (docs/estimators.md §3.4)";

    public static string Sweep { get; } =
        $"per epoch and group: mean over the group's parameters of each estimate ({Keys(QuantityCatalog.Estimates)}) and of "
        + $"{Keys(QuantityCatalog.With(QuantityRole.ConditionalVariance))} (E_x of the conditional variance of one label draw's term); "
        + "relativeStandardErrors = ||standard errors||_2 / ||estimates||_2 over the group; v2BelowV1Share = share of the group's parameters with E_x V2 < E_x V1";

    private static string Keys(IEnumerable<QuantityInfo> quantities) => string.Join(", ", quantities.Select(q => q.Key));
}
