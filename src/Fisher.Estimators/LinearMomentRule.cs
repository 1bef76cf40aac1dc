using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// Per-unit values of one quantity at one layer: (batch, draws, n_l) or (batch, n_l), and the power p of a_k; p =
/// <see cref="LinearMomentRule.NonZeroIndicator"/> for 0/1 indicator values whose weight value is u_j·1[a_k ≠ 0].
/// Two kinds need no product of their own: values known to be zero (<see cref="Zero"/>: V2 where the network is affine
/// in the layer's pre-activations), and values that repeat another quantity's values of the same layer once per
/// label draw (<see cref="Repeat"/>: Î2 terms equal the exact diagonal where there is no residual curvature).
/// </summary>
internal readonly record struct UnitValues(FisherQuantity Quantity, Tensor? Values, int InputPower, long Count = 0, FisherQuantity RepeatOf = FisherQuantity.None, int Repeats = 1)
{
    /// <summary>Values that are zero for every input: <paramref name="count"/> of them.</summary>
    public static UnitValues Zero(FisherQuantity quantity, long count) => new(quantity, null, 2, count);

    /// <summary>Each value of <paramref name="source"/> (a (batch, n_l) quantity of the same layer) taken <paramref name="repeats"/> times.</summary>
    public static UnitValues Repeat(FisherQuantity quantity, FisherQuantity source, int repeats) => new(quantity, null, 2, RepeatOf: source, Repeats: repeats);
}

/// <summary>
/// The Linear-layer rule that turns per-unit values into parameter power sums without per-sample gradients
/// (estimators.md §9.5): for a weight W_jk the per-sample value is u_j · a_k^p (p = 2 for Î1, Î2, exact and
/// empirical terms, p = 4 for V1 and V2, §9.4), so with U the per-unit values and A the layer inputs
/// Σ_n v = Uᵀ A∘p and Σ_n v² = (U∘²)ᵀ A∘2p, one matrix product each; biases use a column of ones. Values from
/// several label draws of one input share a_k, so they are summed over the draw axis first. All quantities of
/// a layer that multiply the same power of A are stacked into one product (three products per layer at most).
/// Products run in the network's dtype, or in float64 with EstimatorOptions.DoublePrecisionMoments (§9.6).
/// </summary>
internal static class LinearMomentRule
{
    /// <summary>
    /// The "power" of indicator quantities: the weight value is u_j·1[a_k ≠ 0] with u ∈ {0, 1}, so it equals its own
    /// square and both power sums are one product with the indicator of A (used for the share of negative Î2 terms).
    /// </summary>
    public const int NonZeroIndicator = 0;

    /// <summary>
    /// Power sums of every quantity in <paramref name="units"/> for the requested tensors of one layer. Biases: column
    /// sums, appended to <paramref name="output"/> as float64 tensors. Weights: one <see cref="GramBlock"/> per power of
    /// A, appended to <paramref name="gramBlocks"/> for the accumulator to multiply into its running sums, and a
    /// count-only entry per stream in <paramref name="output"/>. Products run in <paramref name="accumulation"/>.
    /// </summary>
    public static void Accumulate(List<PowerSums> output, List<GramBlock> gramBlocks, ParameterInfo? weight, ParameterInfo? bias, IReadOnlyList<UnitValues> units, Tensor layerInput, ScalarType accumulation)
    {
        if (units.Count == 0 || (weight is null && bias is null))
            return;

        // Blocks of (B, n_l) values, keyed by the power of A they multiply; slots[(quantity, squares)] = (power, index).
        var blocks = new SortedDictionary<int, List<Tensor>>();
        var slots = new Dictionary<(FisherQuantity, bool), (int Power, int Index)>();
        var counts = new Dictionary<FisherQuantity, long>();
        void AddBlock(int power, FisherQuantity q, bool squares, Tensor values)
        {
            if (!blocks.TryGetValue(power, out var list))
                blocks[power] = list = [];
            slots[(q, squares)] = (power, list.Count);
            list.Add(values);
        }
        foreach (var unit in units)
        {
            if (unit.Values is null)
                continue; // zero or a repeat: no product
            var values = unit.Values.dtype == accumulation ? unit.Values : unit.Values.to(accumulation);
            Tensor sum, squares;
            if (unit.InputPower == NonZeroIndicator)
            {
                counts[unit.Quantity] = values.dim() == 3 ? values.shape[0] * values.shape[1] : values.shape[0];
                sum = values.dim() == 3 ? (values.shape[1] == 1 ? values.squeeze(1) : values.sum(1)) : values;
                AddBlock(NonZeroIndicator, unit.Quantity, false, sum); // Σv² = Σv: one product serves both sums
                continue;
            }
            if (values.dim() == 3 && values.shape[1] == 1)
            {
                counts[unit.Quantity] = values.shape[0];
                sum = values.squeeze(1);
                squares = sum.Sq();
            }
            else if (values.dim() == 3)
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

        var stacked = new Dictionary<int, Tensor>();
        var targets = new Dictionary<int, List<SumTarget>[]>();
        foreach (var (power, list) in blocks)
        {
            stacked[power] = list.Count == 1 ? list[0] : cat(list.ToArray(), 1); // (B, m·n_l)
            targets[power] = list.Select(_ => new List<SumTarget>(1)).ToArray();
        }
        // Column sums in the products' dtype, like the weights' products (a sum with a float64 result type converts the whole block first: 5–20x slower).
        var biasColumns = bias is null ? null : stacked.ToDictionary(p => p.Key, p => p.Value.sum(0L).to(ScalarType.Float64));
        long width = weight?.Shape[0] ?? bias!.Shape[0];

        foreach (var unit in units)
        {
            if (unit.Values is null && unit.RepeatOf == FisherQuantity.None)
            {
                if (weight is not null)
                    output.Add(new PowerSums(new MomentKey(weight.Name, unit.Quantity), unit.Count, null, null, weight.Size));
                if (bias is not null)
                    output.Add(new PowerSums(new MomentKey(bias.Name, unit.Quantity), unit.Count, null, null, bias.Size));
                continue;
            }
            var source = unit.RepeatOf == FisherQuantity.None ? unit.Quantity : unit.RepeatOf;
            long count = counts[source] * unit.Repeats;
            var first = slots[(source, false)];
            var second = slots.TryGetValue((source, true), out var squaresSlot) ? squaresSlot : slots[(source, false)]; // indicators: Σv² = Σv
            if (weight is not null)
            {
                var key = new MomentKey(weight.Name, unit.Quantity);
                output.Add(new PowerSums(key, count, null, null, weight.Size));
                targets[first.Power][first.Index].Add(new SumTarget(key, SumOfSquares: false, unit.Repeats));
                targets[second.Power][second.Index].Add(new SumTarget(key, SumOfSquares: true, unit.Repeats));
            }
            if (bias is not null)
            {
                Tensor Column((int Power, int Index) slot)
                {
                    var column = biasColumns![slot.Power].narrow(0, slot.Index * width, width);
                    return unit.Repeats == 1 ? column : column.mul(TensorMath.C(unit.Repeats, column.dtype));
                }
                output.Add(new PowerSums(new MomentKey(bias.Name, unit.Quantity), count, Column(first), Column(second), bias.Size));
            }
        }

        if (weight is null)
            return;
        var a = layerInput.dtype == accumulation ? layerInput : layerInput.to(accumulation);
        Tensor? a2 = null, a4 = null;
        foreach (var (power, values) in stacked)
        {
            a2 ??= a.Sq();
            a4 ??= power >= 4 ? a2.Sq() : null;
            var ap = power switch
            {
                NonZeroIndicator => a.ne(TensorMath.C(0, accumulation)).to(accumulation),
                2 => a2,
                4 => a4!,
                8 => a4!.Sq(),
                _ => throw new InvalidOperationException($"power {power}"),
            };
            var slices = targets[power];
            string signature = $"{weight.Name}|{power}|{width}|" + string.Join(";", slices.Select(t => string.Join(",", t)));
            gramBlocks.Add(new GramBlock(signature, values, ap, width, slices));
        }
    }
}

/// <summary>Where one slice of a Gram block's product goes: S1 or S2 of a stream, times a repeat factor.</summary>
internal readonly record struct SumTarget(MomentKey Key, bool SumOfSquares, int Factor);

/// <summary>
/// The weight power sums of one layer for one power p of its inputs, as the factors of their product: Values (B, m·n_l)
/// holds m stacked per-unit blocks U_i, InputPower (B, n_in) holds A∘p, and slice i of Valuesᵀ·InputPower ((n_l, n_in),
/// rows i·n_l …) adds to the streams in Targets[i]. The accumulator multiplies it straight into its running sums.
/// Signature identifies the layout (same signature, same shapes and targets).
/// </summary>
internal sealed record GramBlock(string Signature, Tensor Values, Tensor InputPower, long Width, IReadOnlyList<List<SumTarget>> Targets);
