using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// Tensor–number arithmetic without temporary TorchSharp <c>Scalar</c> objects. A Scalar owns a native c10::Scalar and
/// has a finalizer; TorchSharp passes <c>scalar.Handle</c> to native code without keeping the Scalar alive, so a
/// temporary one (the implicit <c>alpha = 1</c> of every tensor <c>add</c> and <c>+</c>, or <c>tensor * 2.0</c>) can be finalized
/// by a garbage collection that another thread starts during the native call, and libtorch then reads freed memory:
/// "INTERNAL ASSERT FAILED at Scalar.h" or "Expected false to be true ... toDouble", seen on two threads within
/// minutes. Hot paths therefore pass numbers as cached 0-dim tensors of the operand's dtype and add with
/// <see cref="Plus(Tensor, Tensor)"/>, which passes the alpha of 1 as a Scalar held by a static field (never finalized);
/// squares use t·t.
/// </summary>
public static class TensorMath
{
    /// <summary>alpha = 1 for add/sub, rooted by this static field for the life of the process.</summary>
    internal static readonly Scalar One = 1.ToScalar();

    /// <summary>t + other (no temporary Scalar).</summary>
    public static Tensor Plus(this Tensor t, Tensor other) => t.add(other, One);

    /// <summary>t − other (TorchSharp's sub of two tensors takes no Scalar; named for symmetry with Plus).</summary>
    public static Tensor Minus(this Tensor t, Tensor other) => t.sub(other);

    /// <summary>t += other, in place (no temporary Scalar).</summary>
    public static Tensor PlusInPlace(this Tensor t, Tensor other) => t.add_(other, One);

    /// <summary>t += a ⊙ b, in place (no temporary Scalar).</summary>
    public static Tensor PlusProductInPlace(this Tensor t, Tensor a, Tensor b) => t.addcmul_(a, b, One);

    private static readonly ConcurrentDictionary<(double, ScalarType), Tensor> Constants = new();

    /// <summary>A process-lifetime 0-dim tensor holding the value in the dtype.</summary>
    public static Tensor C(double value, ScalarType dtype) =>
        Constants.GetOrAdd((value, dtype), key => tensor(key.Item1, key.Item2).DetachFromDisposeScope());

    /// <summary>t².</summary>
    public static Tensor Sq(this Tensor t) => t.mul(t);

    /// <summary>t·c.</summary>
    public static Tensor Times(this Tensor t, double c) => t.mul(C(c, t.dtype));

    /// <summary>t + c.</summary>
    public static Tensor Plus(this Tensor t, double c) => t.Plus(C(c, t.dtype));

    /// <summary>c − t.</summary>
    public static Tensor From(this Tensor t, double c) => C(c, t.dtype).Minus(t);

    /// <summary>t / c.</summary>
    public static Tensor Over(this Tensor t, double c) => t.div(C(c, t.dtype));

    /// <summary>t &gt; c, element-wise.</summary>
    public static Tensor Above(this Tensor t, double c) => t.gt(C(c, t.dtype));

    /// <summary>t == c, element-wise.</summary>
    public static Tensor Is(this Tensor t, double c) => t.eq(C(c, t.dtype));

    /// <summary>t ≥ c, element-wise.</summary>
    public static Tensor AtLeast(this Tensor t, double c) => t.ge(C(c, t.dtype));

    /// <summary>min(t, c), element-wise.</summary>
    public static Tensor AtMost(this Tensor t, double c) => t.minimum(C(c, t.dtype));

    /// <summary>softplus(z) = max(z, 0) + log(1 + e^−|z|), without Scalar arguments.</summary>
    public static Tensor Softplus(this Tensor z) => z.relu().Plus(z.abs().neg().exp().log1p());
}
