using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// Tensor–number arithmetic through cached <see cref="Scalar"/> instances. TorchSharp turns a number into a
/// temporary Scalar whose finaliser may run while the native call still reads it (nothing keeps it alive), which
/// under GC pressure corrupted a pow() exponent in the benchmark ("INTERNAL ASSERT FAILED at Scalar.h").
/// Cached Scalars live for the process, so every hot-path operation here is immune; squares use t·t.
/// </summary>
internal static class TensorMath
{
    private static readonly ConcurrentDictionary<double, Scalar> Cache = new();

    /// <summary>A process-lifetime Scalar for the value.</summary>
    public static Scalar S(double value) => Cache.GetOrAdd(value, v => v.ToScalar());

    /// <summary>t².</summary>
    public static Tensor Sq(this Tensor t) => t.mul(t);

    /// <summary>t·c.</summary>
    public static Tensor Times(this Tensor t, double c) => t.mul(S(c));

    /// <summary>t + c.</summary>
    public static Tensor Plus(this Tensor t, double c) => t.add(S(c));

    /// <summary>c − t.</summary>
    public static Tensor From(this Tensor t, double c) => t.neg().add(S(c));

    /// <summary>t / c.</summary>
    public static Tensor Over(this Tensor t, double c) => t.div(S(c));
}
