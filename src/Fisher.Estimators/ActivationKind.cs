namespace Fisher.Estimators;

/// <summary>Element-wise activation kinds with closed-form first and second derivatives.</summary>
public enum ActivationKind
{
    Identity,
    Relu,
    LeakyRelu,
    Tanh,
    Sigmoid,
    Softplus,
    Gelu,
    Silu,
    Elu,
}
