namespace Fisher.Estimators;

/// <summary>Identifies one stream of moments: a parameter tensor and a quantity.</summary>
public readonly record struct MomentKey(string Parameter, FisherQuantity Quantity)
{
    /// <inheritdoc />
    public override string ToString() => Quantity.StreamName(Parameter);
}
