using System.Collections.Concurrent;
using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// Tensor–number arithmetic without TorchSharp <c>Scalar</c> objects. In long benchmark runs a Scalar read by a
/// native op twice turned out corrupted ("INTERNAL ASSERT FAILED at Scalar.h"), first a temporary one and then
/// even one this class kept alive, so hot paths use cached 0-dim tensors of the operand's dtype instead
/// (tensor–tensor ops broadcast them); squares use t·t.
/// </summary>
internal static class TensorMath
{
    private static readonly ConcurrentDictionary<(double, ScalarType), Tensor> Constants = new();

    /// <summary>A process-lifetime 0-dim tensor holding the value in the dtype.</summary>
    public static Tensor C(double value, ScalarType dtype) =>
        Constants.GetOrAdd((value, dtype), key => tensor(key.Item1, key.Item2).DetachFromDisposeScope());

    /// <summary>t².</summary>
    public static Tensor Sq(this Tensor t) => t.mul(t);

    /// <summary>t·c.</summary>
    public static Tensor Times(this Tensor t, double c) => t.mul(C(c, t.dtype));

    /// <summary>t + c.</summary>
    public static Tensor Plus(this Tensor t, double c) => t.add(C(c, t.dtype));

    /// <summary>c − t.</summary>
    public static Tensor From(this Tensor t, double c) => C(c, t.dtype).sub(t);

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
    public static Tensor Softplus(this Tensor z) => z.relu().add(z.abs().neg().exp().log1p());
}
