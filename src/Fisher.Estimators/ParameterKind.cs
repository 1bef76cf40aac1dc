namespace Fisher.Estimators;

/// <summary>Whether a parameter tensor is a layer's weight or its bias.</summary>
public enum ParameterKind
{
    Weight,
    Bias,
}
