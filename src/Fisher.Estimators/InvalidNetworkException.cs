namespace Fisher.Estimators;

/// <summary>A network or likelihood definition that is inconsistent (shapes, dtypes, output width).</summary>
public sealed class InvalidNetworkException(string message) : ArgumentException(message);
