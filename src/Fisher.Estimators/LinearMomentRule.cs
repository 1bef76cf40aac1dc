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
/// empirical terms, p = 4 for V1 and V2, p = 6 and 8 for the third and fourth powers of exact and empirical, §9.4), so with U the per-unit values and A the layer inputs
/// Σ_n v = Uᵀ A∘p and Σ_n v² = (U∘²)ᵀ A∘2p, one matrix product each; biases use a column of ones (Uᵀ·1: the
/// column sums of U). Values from several label draws of one input share a_k, so they are summed over the draw axis
/// first. All quantities of a layer that multiply the same power of A are stacked into one product (three products
/// per layer at most). Products run in the network's dtype, or in float64 with
/// EstimatorOptions.DoublePrecisionMoments (§9.6).
/// </summary>
internal static class LinearMomentRule
{
    /// <summary>
    /// The "power" of indicator quantities: the weight value is u_j·1[a_k ≠ 0] with u ∈ {0, 1}, so it equals its own
    /// square and both power sums are one product with the indicator of A (used for the share of negative Î2 terms).
    /// </summary>
    public const int NonZeroIndicator = 0;

    /// <summary>
    /// Power sums of every quantity in <paramref name="units"/> for the requested tensors of one layer: one
    /// <see cref="GramBlock"/> per power of A (with the column sums for the bias, when requested), appended to
    /// <paramref name="gramBlocks"/> for the accumulator to multiply into its running sums, and a count-only entry per
    /// stream in <paramref name="output"/>. Products run in <paramref name="accumulation"/>.
    /// </summary>
    public static void Accumulate(List<StreamCount> output, List<GramBlock> gramBlocks, ParameterInfo? weight, ParameterInfo? bias, IReadOnlyList<UnitValues> units, Tensor? layerInput, ScalarType accumulation)
    {
        if (units.Count == 0 || (weight is null && bias is null))
            return;

        var blocks = new Blocks();
        foreach (var unit in units)
            AddUnit(blocks, unit, accumulation);

        long width = weight?.Shape[0] ?? bias!.Size;
        foreach (var (power, list) in blocks.ByPower)
        {
            blocks.Stacked[power] = Stack(list, width);
            blocks.Targets[power] = list.Select(_ => new List<SumTarget>(1)).ToArray();
        }
        AddTargets(output, blocks, weight, bias, units);
        AddGramBlocks(gramBlocks, blocks, weight, bias, layerInput, accumulation, width);
    }

    /// <summary>
    /// Power sums of a parameter tensor whose values are per-parameter already ((batch, n) or (batch, draws, n) rows, n
    /// its size; convolutions, BatchNorm: docs/estimators.md §9.7): column sums of the values and of their squares, the
    /// bias path of <see cref="Accumulate"/>.
    /// </summary>
    public static void AccumulateElements(List<StreamCount> output, List<GramBlock> gramBlocks, ParameterInfo parameter, IReadOnlyList<UnitValues> units, ScalarType accumulation) =>
        Accumulate(output, gramBlocks, null, parameter, units, null, accumulation);

    /// <summary>
    /// The values of one quantity at the layer as block entries: with several draws per input, their sums over the
    /// draw axis and the sums of their squares; with one draw, one tensor for both entries (the second squared in place
    /// once stacked); indicators, one entry for both sums. Zeros and repeats have no entry.
    /// </summary>
    private static void AddUnit(in Blocks blocks, UnitValues unit, ScalarType accumulation)
    {
        if (unit.Values is null)
            return; // zero or a repeat: no product
        var values = unit.Values.dtype == accumulation ? unit.Values : unit.Values.to(accumulation);
        if (unit.InputPower == NonZeroIndicator)
        {
            blocks.Counts[unit.Quantity] = values.dim() == 3 ? values.shape[0] * values.shape[1] : values.shape[0];
            var indicators = values.dim() == 3 ? (values.shape[1] == 1 ? values.squeeze(1) : values.sum(1)) : values;
            blocks.Add(NonZeroIndicator, unit.Quantity, false, indicators, square: false); // Σv² = Σv: one product serves both sums
            return;
        }
        if (values.dim() == 3 && values.shape[1] > 1)
        {
            blocks.Counts[unit.Quantity] = values.shape[0] * values.shape[1];
            blocks.Add(unit.InputPower, unit.Quantity, false, values.sum(1), square: false);
            blocks.Add(2 * unit.InputPower, unit.Quantity, true, values.Sq().sum(1), square: false);
        }
        else
        {
            var sum = values.dim() == 3 ? values.squeeze(1) : values;
            blocks.Counts[unit.Quantity] = sum.shape[0];
            blocks.Add(unit.InputPower, unit.Quantity, false, sum, square: false);
            blocks.Add(2 * unit.InputPower, unit.Quantity, true, sum, square: true);
        }
    }

    /// <summary>
    /// Per quantity and requested parameter, its count in <paramref name="output"/> and where its sums S1 and S2 come
    /// from: the slices of the blocks that hold its values (or the values of the quantity it repeats).
    /// </summary>
    private static void AddTargets(List<StreamCount> output, in Blocks blocks, ParameterInfo? weight, ParameterInfo? bias, IReadOnlyList<UnitValues> units)
    {
        var parameters = new List<(ParameterInfo Info, bool IsBias)>(2);
        if (weight is not null)
            parameters.Add((weight, false));
        if (bias is not null)
            parameters.Add((bias, true));
        foreach (var unit in units)
        {
            bool zero = unit.Values is null && unit.RepeatOf == FisherQuantity.None; // only the count moves
            var source = unit.RepeatOf == FisherQuantity.None ? unit.Quantity : unit.RepeatOf;
            long count = zero ? unit.Count : blocks.Counts[source] * unit.Repeats;
            foreach (var (parameter, isBias) in parameters)
            {
                var key = new MomentKey(parameter.Name, unit.Quantity);
                output.Add(new StreamCount(key, count, parameter.Size));
                if (zero)
                    continue;
                var first = blocks.Slots[(source, false)];
                var second = blocks.Slots.TryGetValue((source, true), out var squaresSlot) ? squaresSlot : first; // indicators: Σv² = Σv
                blocks.Targets[first.Power][first.Index].Add(new SumTarget(key, SumOfSquares: false, unit.Repeats, isBias));
                blocks.Targets[second.Power][second.Index].Add(new SumTarget(key, SumOfSquares: true, unit.Repeats, isBias));
            }
        }
    }

    /// <summary>One <see cref="GramBlock"/> per stacked block: its values and the power of A they multiply (A∘p, the indicator of A).</summary>
    private static void AddGramBlocks(List<GramBlock> gramBlocks, in Blocks blocks, ParameterInfo? weight, ParameterInfo? bias, Tensor? layerInput, ScalarType accumulation, long width)
    {
        Tensor? a = weight is null ? null : layerInput!.dtype == accumulation ? layerInput : layerInput.to(accumulation);
        Tensor? a2 = null, a4 = null;
        foreach (var (power, values) in blocks.Stacked)
        {
            Tensor? ap = null;
            if (a is not null)
            {
                a2 ??= a.Sq();
                a4 ??= power >= 4 ? a2.Sq() : null;
                ap = power switch
                {
                    NonZeroIndicator => a.ne(TensorMath.C(0, accumulation)).to(accumulation),
                    2 => a2,
                    4 => a4!,
                    6 => a4!.mul(a2),
                    8 => a4!.Sq(),
                    12 => a4!.Sq().mul(a4!),
                    16 => a4!.Sq().Sq(),
                    _ => throw new InvalidOperationException($"power {power}"),
                };
            }
            var slices = blocks.Targets[power];
            string signature = Signature(weight?.Name ?? bias!.Name, power, width, weight is not null, bias is not null, slices);
            gramBlocks.Add(new GramBlock(signature, values, ap, width, slices, bias is not null));
        }
    }

    /// <summary>
    /// The blocks of one layer's values. Blocks of (B, n_l) values, keyed by the power of A they multiply;
    /// Slots[(quantity, squares)] = (power, index). A block entry marked Square holds values whose squares the block
    /// needs: they are squared in place once stacked (one pass over the stacked copy instead of a fresh tensor per
    /// quantity). Stacked and Targets hold, per power, the stacked values and per slice the sums they add to. A value
    /// passed by reference: only its dictionaries are allocated.
    /// </summary>
    private readonly struct Blocks
    {
        public readonly SortedDictionary<int, List<(Tensor Values, bool Square)>> ByPower = new();
        public readonly Dictionary<(FisherQuantity, bool), (int Power, int Index)> Slots = new();
        public readonly Dictionary<FisherQuantity, long> Counts = new();
        public readonly Dictionary<int, Tensor> Stacked = new();
        public readonly Dictionary<int, List<SumTarget>[]> Targets = new();

        public Blocks()
        {
        }

        public void Add(int power, FisherQuantity q, bool squares, Tensor values, bool square)
        {
            if (!ByPower.TryGetValue(power, out var list))
                ByPower[power] = list = [];
            Slots[(q, squares)] = (power, list.Count);
            list.Add((values, square));
        }
    }

    /// <summary>The layout of a block as a short string: parameter, power, width, and per slice its targets.</summary>
    private static string Signature(string parameter, int power, long width, bool hasWeight, bool hasBias, List<SumTarget>[] slices)
    {
        var text = new System.Text.StringBuilder(64 + 24 * slices.Length);
        text.Append(parameter).Append('|').Append(power).Append('|').Append(width).Append('|').Append(hasWeight ? 'w' : '-').Append(hasBias ? 'b' : '-');
        foreach (var slice in slices)
        {
            text.Append('|');
            foreach (var target in slice)
                text.Append(target.Key.Parameter).Append('.').Append((int)target.Key.Quantity).Append(target.SumOfSquares ? "²" : "").Append(target.Bias ? "b" : "").Append('×').Append(target.Factor).Append(',');
        }
        return text.ToString();
    }

    /// <summary>The (B, m·n_l) stack of a block's entries, with the entries marked Square squared in place.</summary>
    private static Tensor Stack(List<(Tensor Values, bool Square)> list, long width)
    {
        if (list.Count == 1)
            return list[0].Square ? list[0].Values.Sq() : list[0].Values;
        var stack = cat(list.Select(e => e.Values).ToArray(), 1); // a fresh copy: squaring it leaves the sources intact
        for (int i = 0; i < list.Count;)
        {
            if (!list[i].Square)
            {
                i++;
                continue;
            }
            int run = i;
            while (run < list.Count && list[run].Square)
                run++;
            var part = stack.narrow(1, i * width, (run - i) * width);
            part.mul_(part);
            i = run;
        }
        return stack;
    }
}

/// <summary>
/// Where one slice of a Gram block's product goes: S1 or S2 of a stream, times a repeat factor; a bias stream reads the
/// slice of the block's column sums (Valuesᵀ·1), a weight stream the slice of Valuesᵀ·InputPower.
/// </summary>
internal readonly record struct SumTarget(MomentKey Key, bool SumOfSquares, int Factor, bool Bias = false);

/// <summary>
/// The power sums of one layer for one power p of its inputs, as the factors of their product: Values (B, m·n_l)
/// holds m stacked per-unit blocks U_i, InputPower (B, n_in) holds A∘p (null when no weight is requested); slice i of
/// Valuesᵀ·InputPower ((n_l, n_in), rows i·n_l …) and, when HasBias, of the column sums Valuesᵀ·1 add to the streams in
/// Targets[i]. The accumulator multiplies them straight into its running sums. Signature identifies the layout (same
/// signature, same shapes and targets).
/// </summary>
internal sealed record GramBlock(string Signature, Tensor Values, Tensor? InputPower, long Width, IReadOnlyList<List<SumTarget>> Targets, bool HasBias);
