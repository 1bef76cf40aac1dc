using Fisher.Estimators;

namespace Fisher.Data;

/// <summary>How the worker maps a raw input x to the network input: <c>x * Scale + Shift</c>.</summary>
public sealed record InputScaling(double Scale = 1.0, double Shift = 0.0)
{
    /// <summary>
    /// <c>x * Scale + Shift</c> in the dtype of <paramref name="x"/> (x itself when the scaling is the identity). The
    /// numbers enter as 0-dim tensors, not as TorchSharp Scalars: <c>tensor * double</c> on two threads at once failed
    /// inside libtorch ("Expected false to be true" at Scalar.h, toDouble) after some thousands of batches.
    /// </summary>
    public TorchSharp.torch.Tensor Apply(TorchSharp.torch.Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (Scale == 1.0 && Shift == 0.0)
            return x;
        using var scale = TorchSharp.torch.tensor(Scale, x.dtype);
        using var shift = TorchSharp.torch.tensor(Shift, x.dtype);
        return x.mul(scale).Plus(shift);
    }
}
