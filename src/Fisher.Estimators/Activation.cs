using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// An element-wise activation σ with σ' and σ'' in one place (estimators.md §9.2, §5.3b). Piecewise-linear
/// kinds have σ'' = 0, which is why Î2 has zero label variance in ReLU networks (§5.3d).
/// </summary>
public sealed record Activation(ActivationKind Kind, double NegativeSlope = 0.01, double Alpha = 1.0)
{
    /// <summary>The names accepted by <see cref="Parse"/>.</summary>
    public static IReadOnlyList<string> SupportedNames { get; } =
        ["identity", "relu", "leaky_relu", "tanh", "sigmoid", "softplus", "gelu", "silu", "elu"];

    public static Activation Identity { get; } = new(ActivationKind.Identity);
    public static Activation Relu { get; } = new(ActivationKind.Relu);
    public static Activation Tanh { get; } = new(ActivationKind.Tanh);
    public static Activation Sigmoid { get; } = new(ActivationKind.Sigmoid);
    public static Activation Softplus { get; } = new(ActivationKind.Softplus);
    public static Activation Gelu { get; } = new(ActivationKind.Gelu);
    public static Activation Silu { get; } = new(ActivationKind.Silu);

    /// <summary>ELU with the given α: z for z &gt; 0, α(eᶻ − 1) otherwise.</summary>
    public static Activation Elu(double alpha = 1.0) => new(ActivationKind.Elu, Alpha: alpha);

    /// <summary>Leaky ReLU with the given negative slope.</summary>
    public static Activation LeakyRelu(double negativeSlope = 0.01) => new(ActivationKind.LeakyRelu, negativeSlope);

    /// <summary>True when σ'' is zero almost everywhere.</summary>
    public bool IsPiecewiseLinear => Kind is ActivationKind.Identity or ActivationKind.Relu or ActivationKind.LeakyRelu;

    /// <summary>Parses a name such as <c>tanh</c> or <c>leaky_relu</c>; throws naming the accepted names.</summary>
    public static Activation Parse(string name, double negativeSlope = 0.01) => name.Trim().ToLowerInvariant() switch
    {
        "identity" or "linear" or "none" => Identity,
        "relu" => Relu,
        "leaky_relu" or "leakyrelu" => LeakyRelu(negativeSlope),
        "tanh" => Tanh,
        "sigmoid" => Sigmoid,
        "softplus" => Softplus,
        "gelu" => Gelu,
        "silu" or "swish" => Silu,
        "elu" => Elu(),
        _ => throw new ArgumentException($"unknown activation '{name}'; expected one of {string.Join(", ", SupportedNames)}", nameof(name)),
    };

    /// <summary>σ(z), σ'(z) and, when <paramref name="withSecond"/>, σ''(z); fresh tensors in z's dtype.</summary>
    public (Tensor Value, Tensor First, Tensor? Second) Evaluate(Tensor z, bool withSecond)
    {
        switch (Kind)
        {
            case ActivationKind.Identity:
                return (z.alias(), ones_like(z), withSecond ? zeros_like(z) : null);
            case ActivationKind.Relu:
            {
                var positive = z.Above(0).to(z.dtype);
                return (z.relu(), positive, withSecond ? zeros_like(z) : null);
            }
            case ActivationKind.LeakyRelu:
            {
                var first = z.Above(0).to(z.dtype).Times(1 - NegativeSlope).Plus(NegativeSlope);
                return (z * first, first, withSecond ? zeros_like(z) : null);
            }
            case ActivationKind.Tanh:
            {
                var t = z.tanh();
                var first = t.Sq().From(1);                // σ' = 1 − τ²
                return (t, first, withSecond ? t.mul(first).Times(-2) : null); // σ'' = −2τ(1 − τ²)
            }
            case ActivationKind.Sigmoid:
            {
                var s = z.sigmoid();
                var first = s.mul(s.From(1));              // σ' = s(1 − s)
                return (s, first, withSecond ? first.mul(s.Times(-2).Plus(1)) : null); // σ'' = s(1 − s)(1 − 2s)
            }
            case ActivationKind.Softplus:
            {
                var s = z.sigmoid();                       // σ' = sigmoid(z), σ'' = s(1 − s)
                return (z.Softplus(), s, withSecond ? s.mul(s.From(1)) : null);
            }
            case ActivationKind.Gelu:
            {
                // Exact GELU z Φ(z): σ' = Φ + z φ, σ'' = φ (2 − z²).
                var z2 = z.Sq();
                var phi = z2.Times(-0.5).exp().Times(1.0 / Math.Sqrt(2 * Math.PI));
                var cdf = special.erf(z.Times(1.0 / Math.Sqrt(2))).Plus(1).Times(0.5);
                return (z.mul(cdf), cdf.Plus(z.mul(phi)), withSecond ? phi.mul(z2.From(2)) : null);
            }
            case ActivationKind.Silu:
            {
                // z s(z): σ' = s + z s(1 − s), σ'' = s(1 − s)(2 + z(1 − 2s)).
                var s = z.sigmoid();
                var ds = s.mul(s.From(1));
                return (z.mul(s), s.Plus(z.mul(ds)), withSecond ? ds.mul(z.mul(s.Times(-2).Plus(1)).Plus(2)) : null);
            }
            case ActivationKind.Elu:
            {
                // z > 0: (z, 1, 0); z ≤ 0: (α(eᶻ − 1), αeᶻ, αeᶻ), as PyTorch's ELU (σ' = α at 0).
                var e = z.minimum(TensorMath.C(0, z.dtype)).exp().Times(Alpha);
                var negative = z.Above(0).logical_not().to(z.dtype);
                var curve = e.mul(negative);
                return (z.relu().Plus(e).Plus(-Alpha), z.Above(0).to(z.dtype).Plus(curve), withSecond ? curve : null);
            }
            default:
                throw new InvalidOperationException($"activation {Kind} has no rule");
        }
    }

    /// <summary>The lowercase name used in architecture files.</summary>
    public string Name => Kind switch
    {
        ActivationKind.LeakyRelu => "leaky_relu",
        _ => Kind.ToString().ToLowerInvariant(),
    };
}
