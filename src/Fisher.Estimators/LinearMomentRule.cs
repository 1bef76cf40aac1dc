using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// Per-unit values of one quantity at one layer: (batch, draws, n_l) or (batch, n_l), and the power p of a_k; p =
/// <see cref="LinearMomentRule.NonZeroIndicator"/> for 0/1 indicator values whose weight value is u_j·1[a_k ≠ 0].
/// </summary>
internal readonly record struct UnitValues(FisherQuantity Quantity, Tensor Values, int InputPower);

/// <summary>
/// The Linear-layer rule that turns per-unit values into parameter power sums without per-sample gradients
/// (estimators.md §9.5): for a weight W_jk the per-sample value is u_j · a_k^p (p = 2 for Î1, Î2, exact and
/// empirical terms, p = 4 for V1 and V2, §9.4), so with U the per-unit values and A the layer inputs
/// Σ_n v = Uᵀ A∘p and Σ_n v² = (U∘²)ᵀ A∘2p, one matrix product each; biases use a column of ones. Values from
/// several label draws of one input share a_k, so they are summed over the draw axis first. All quantities of
/// a layer that multiply the same power of A are stacked into one product (three products per layer at most).
/// Products run in float64 by default (§9.6: S2 − S1²/n cancels in float32); see EstimatorOptions.DoublePrecisionMoments.
/// </summary>
internal static class LinearMomentRule
{
    /// <summary>
    /// The "power" of indicator quantities: the weight value is u_j·1[a_k ≠ 0] with u ∈ {0, 1}, so it equals its own
    /// square and both power sums are one product with the indicator of A (used for the share of negative Î2 terms).
    /// </summary>
    public const int NonZeroIndicator = 0;

    /// <summary>
    /// Power sums of every quantity in <paramref name="units"/> for the requested tensors of one layer, appended to
    /// <paramref name="output"/> as float64 tensors shaped like the parameters.
    /// </summary>
    public static void Accumulate(List<PowerSums> output, ParameterInfo? weight, ParameterInfo? bias, IReadOnlyList<UnitValues> units, Tensor layerInput, ScalarType accumulation)
    {
        if (units.Count == 0 || (weight is null && bias is null))
            return;

        // Blocks of (B, n_l) values, keyed by the power of A they multiply.
        var blocks = new Dictionary<int, List<(FisherQuantity Quantity, bool Squares, Tensor Values)>>();
        var counts = new Dictionary<FisherQuantity, long>();
        void AddBlock(int power, FisherQuantity q, bool squares, Tensor values)
        {
            if (!blocks.TryGetValue(power, out var list))
                blocks[power] = list = [];
            list.Add((q, squares, values));
        }
        foreach (var unit in units)
        {
            var values = unit.Values.to(accumulation);
            Tensor sum, squares;
            if (unit.InputPower == NonZeroIndicator)
            {
                counts[unit.Quantity] = values.dim() == 3 ? values.shape[0] * values.shape[1] : values.shape[0];
                sum = values.dim() == 3 ? values.sum(1) : values;
                AddBlock(NonZeroIndicator, unit.Quantity, false, sum); // Σv² = Σv: one product serves both sums
                continue;
            }
            if (values.dim() == 3)
            {
                counts[unit.Quantity] = values.shape[0] * values.shape[1];
                sum = values.sum(1);
                squares = values.Sq().sum(1);
            }
            else
            {
                counts[unit.Quantity] = values.shape[0];
                sum = values;
                squares = values.Sq();
            }
            AddBlock(unit.InputPower, unit.Quantity, false, sum);
            AddBlock(2 * unit.InputPower, unit.Quantity, true, squares);
        }

        var weightSums = new Dictionary<(FisherQuantity, bool), Tensor>();
        var biasSums = new Dictionary<(FisherQuantity, bool), Tensor>();
        var a = weight is null ? null : layerInput.to(accumulation);
        Tensor? a2 = a?.Sq();
        Tensor? a4 = a2?.Sq();
        foreach (var (power, list) in blocks)
        {
            var stacked = list.Count == 1 ? list[0].Values : cat(list.Select(b => b.Values).ToArray(), 1); // (B, m·n_l)
            long width = list[0].Values.shape[1];
            if (weight is not null)
            {
                var ap = power switch
                {
                    NonZeroIndicator => a!.ne(TensorMath.C(0, accumulation)).to(accumulation),
                    2 => a2!,
                    4 => a4!,
                    8 => a4!.Sq(),
                    _ => throw new InvalidOperationException($"power {power}"),
                };
                var product = stacked.t().matmul(ap).to(ScalarType.Float64); // (m·n_l, n_in)
                for (int i = 0; i < list.Count; i++)
                    weightSums[(list[i].Quantity, list[i].Squares)] = product.narrow(0, i * width, width);
            }
            if (bias is not null)
            {
                var columns = stacked.sum(0L, type: ScalarType.Float64);
                for (int i = 0; i < list.Count; i++)
                    biasSums[(list[i].Quantity, list[i].Squares)] = columns.narrow(0, i * width, width);
            }
        }

        foreach (var unit in units)
        {
            long count = counts[unit.Quantity];
            bool squares = unit.InputPower != NonZeroIndicator;
            if (weight is not null)
                output.Add(new PowerSums(new MomentKey(weight.Name, unit.Quantity), count, weightSums[(unit.Quantity, false)], weightSums[(unit.Quantity, squares)]));
            if (bias is not null)
                output.Add(new PowerSums(new MomentKey(bias.Name, unit.Quantity), count, biasSums[(unit.Quantity, false)], biasSums[(unit.Quantity, squares)]));
        }
    }
}
