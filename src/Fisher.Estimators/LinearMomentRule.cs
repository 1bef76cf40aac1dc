using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// The Linear-layer rule that turns per-unit values into parameter power sums without per-sample gradients
/// (estimators.md §9.5): for a weight W_jk the per-sample value is u_j · a_k^p (p = 2 for Î1, Î2, exact and
/// empirical terms, p = 4 for V1 and V2, §9.4), so with U the per-unit values and A the layer inputs
/// Σ_n v = Uᵀ A∘p and Σ_n v² = (U∘²)ᵀ A∘2p, one matrix product each; biases use a column of ones. Values from
/// several label draws of one input share a_k, so they are summed over the draw axis first. Products run in
/// float64 (§9.6: S2 − S1²/n cancels in float32).
/// </summary>
internal static class LinearMomentRule
{
    /// <summary>
    /// Adds the moments of <paramref name="quantity"/> for the requested tensors of one layer to <paramref name="result"/>.
    /// </summary>
    /// <param name="unitValues">(batch, draws, n_l) or (batch, n_l) per-unit values.</param>
    /// <param name="layerInput">(batch, n_{l−1}) inputs of the layer.</param>
    /// <param name="inputPower">p in u_j · a_k^p.</param>
    public static void Accumulate(
        FisherMoments result, FisherQuantity quantity, ParameterInfo? weight, ParameterInfo? bias,
        Tensor unitValues, Tensor layerInput, int inputPower)
    {
        var values = unitValues.to(ScalarType.Float64);
        Tensor sum, sumSquares;
        long count;
        if (values.dim() == 3)
        {
            count = values.shape[0] * values.shape[1];
            sum = values.sum(1);
            sumSquares = values.square().sum(1);
        }
        else
        {
            count = values.shape[0];
            sum = values;
            sumSquares = values.square();
        }

        if (weight is not null)
        {
            var a = layerInput.to(ScalarType.Float64);
            var ap = inputPower == 2 ? a.square() : a.square().square();
            var s1 = sum.t().matmul(ap);
            var s2 = sumSquares.t().matmul(ap.square());
            result.Add(new MomentKey(weight.Name, quantity), Moments.FromPowerSums(count, Values(s1), Values(s2)));
        }
        if (bias is not null)
        {
            result.Add(new MomentKey(bias.Name, quantity), Moments.FromPowerSums(count, Values(sum.sum(0L)), Values(sumSquares.sum(0L))));
        }
    }

    private static ReadOnlySpan<double> Values(Tensor t) => t.contiguous().data<double>().ToArray();
}
