namespace Fisher.Estimators;

/// <summary>A batch (inputs or labels) that the estimator cannot use; the message names the field and what was expected.</summary>
public sealed class InvalidBatchException(string field, string message) : ArgumentException($"{field}: {message}", field)
{
    /// <summary>The offending field, e.g. <c>inputs</c> or <c>labels</c>.</summary>
    public string Field { get; } = field;
}
