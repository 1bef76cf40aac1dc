using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// A worker's running moments per (parameter, quantity), kept as float64 tensors so the hot loop allocates no managed
/// arrays. Batches add their power sums S1 = Σv, S2 = Σv² to a pending chunk; every <see cref="BatchesPerFold"/>
/// batches, and before a copy is taken, the chunk is folded into the (n, mean, M2) state with Chan's update
/// (estimators.md §9.6). A chunk of 256 batches (65,536 values at batch 256) keeps the cancellation in S2 − S1²/n far
/// below the float32 rounding of the values themselves for any realistic coefficient of variation, while the fold — a
/// dozen element-wise passes per stream, ~0.5 ms per batch when it ran every 64 batches of the 784-256-256-10
/// benchmark — runs rarely. Sums arrive as the factors of their Gram products (<see cref="GramBlock"/>), which are
/// multiplied straight into a pending product per block (one fused multiply-add, no product tensor and no separate
/// add per batch; biases as the column sums beside it); float64 pending products join the chunk at the fold, float32
/// ones (float32 networks) every <see cref="Float32BatchesPerFlush"/> batches. Take a managed copy with
/// <see cref="ToMoments"/> when a partial leaves the worker. Not thread-safe (one per worker). Owns native memory:
/// dispose it.
/// </summary>
public sealed class FisherAccumulator : IDisposable
{
    private readonly Dictionary<MomentKey, Entry> _entries = [];
    private readonly Dictionary<string, PendingProduct> _products = [];
    private int _pendingBatches;
    private bool _incomplete;

    /// <summary>Batches summed raw before they are folded into the Chan state.</summary>
    public int BatchesPerFold { get; init; } = 256;

    /// <summary>
    /// Batches whose float32 Gram products are summed in float32 before they join the float64 sums: a sum of sixteen
    /// float32 products of a few hundred terms each keeps float32 accuracy (MomentPrecisionTests: the worst relative
    /// error is the same as with eight, 2.5e-7 on means, 6.4e-7 on M2), and each flush reads and writes every stream's
    /// float64 sums (about 0.3 ms per batch of the 784-256-256-10 benchmark when it ran every 8 batches).
    /// </summary>
    public int Float32BatchesPerFlush { get; init; } = 16;

    /// <summary>Number of inputs merged.</summary>
    public long Inputs { get; private set; }

    /// <summary>Number of (parameter, quantity) streams.</summary>
    public int Count => _entries.Count;

    /// <summary>
    /// Merges one batch of <paramref name="inputs"/> inputs: per stream the count, and the Gram blocks that carry the
    /// power sums S1 = Σv, S2 = Σv². Called with every stream of a batch at once, after all of its tensor work
    /// succeeded, so a failing batch changes nothing.
    /// </summary>
    internal void Merge(long inputs, IReadOnlyList<StreamCount> batch, IReadOnlyList<GramBlock> gramBlocks)
    {
        ThrowIfIncomplete();
        _incomplete = true; // cleared only when every sum and product of the batch went in
        using var scope = NewDisposeScope();
        foreach (var stream in batch)
        {
            if (!_entries.TryGetValue(stream.Key, out var entry))
                _entries[stream.Key] = entry = new Entry(stream.Elements);
            entry.AddCount(stream.Count);
        }
        foreach (var block in gramBlocks)
        {
            if (!_products.TryGetValue(block.Signature, out var product))
                _products[block.Signature] = product = new PendingProduct(block);
            product.Add(block);
            if (product.Batches >= Float32BatchesPerFlush && product.IsSingle)
                product.Flush(_entries);
        }
        Inputs += inputs;
        if (++_pendingBatches >= BatchesPerFold)
            Fold();
        _incomplete = false;
    }

    /// <summary>
    /// A merge that failed part-way (a native error between its sums and products) leaves counts and sums that no longer
    /// match: every later use refuses, so the owner starts over instead of reporting wrong moments.
    /// </summary>
    private void ThrowIfIncomplete()
    {
        if (_incomplete)
            throw new InvalidOperationException("an earlier merge into this accumulator failed part-way, so its counts and sums no longer match; discard it and start again");
    }

    /// <summary>A managed copy of every stream.</summary>
    public FisherMoments ToMoments()
    {
        ThrowIfIncomplete();
        Fold();
        var result = new FisherMoments();
        foreach (var (key, entry) in _entries)
            result.Add(key, new Moments(entry.Count, Copy(entry.Mean), Copy(entry.M2)));
        result.AddInputs(Inputs);
        return result;
    }

    /// <summary>Forgets every stream (after a partial was taken).</summary>
    public void Clear()
    {
        foreach (var entry in _entries.Values)
            entry.Dispose();
        _entries.Clear();
        foreach (var product in _products.Values)
            product.Dispose();
        _products.Clear();
        Inputs = 0;
        _pendingBatches = 0;
        _incomplete = false;
    }

    /// <inheritdoc />
    public void Dispose() => Clear();

    private void Fold()
    {
        using var scope = NewDisposeScope();
        foreach (var product in _products.Values)
            product.Flush(_entries);
        foreach (var entry in _entries.Values)
            entry.Fold();
        _pendingBatches = 0;
    }

    private static double[] Copy(Tensor t) => MemoryMarshal.Cast<byte, double>(t.bytes).ToArray();

    /// <summary>
    /// Σ over pending batches of Valuesᵀ·InputPower and of the column sums of Values for one Gram block layout, in the
    /// blocks' dtype.
    /// </summary>
    private sealed class PendingProduct(GramBlock layout) : IDisposable
    {
        private readonly Tensor? _product = layout.InputPower is null ? null : zeros([layout.Values.shape[1], layout.InputPower.shape[1]], layout.Values.dtype).DetachFromDisposeScope();
        private readonly Tensor? _columnSums = layout.HasBias ? zeros([layout.Values.shape[1]], layout.Values.dtype).DetachFromDisposeScope() : null;
        private readonly IReadOnlyList<List<SumTarget>> _targets = layout.Targets;
        private readonly long _width = layout.Width;

        public int Batches { get; private set; }

        public bool IsSingle { get; } = layout.Values.dtype == ScalarType.Float32;

        public void Add(GramBlock block)
        {
            _product?.addmm_(block.Values.t(), block.InputPower!);
            // torch's pairwise column sum, not a matrix-vector product: sgemv's running float32 sum lost a digit on the
            // trained sample (MomentPrecisionTests).
            if (_columnSums is not null)
            {
                using var sums = block.Values.sum(0L);
                _columnSums.PlusInPlace(sums);
            }
            Batches++;
        }

        /// <summary>Adds every slice into the float64 sums of its streams and restarts.</summary>
        public void Flush(Dictionary<MomentKey, Entry> entries)
        {
            if (Batches == 0)
                return;
            for (int i = 0; i < _targets.Count; i++)
            {
                foreach (var target in _targets[i])
                {
                    var slice = target.Bias ? _columnSums!.narrow(0, i * _width, _width) : _product!.narrow(0, i * _width, _width).reshape(-1);
                    entries[target.Key].AddSlice(slice, target.SumOfSquares, target.Factor);
                }
            }
            _product?.zero_();
            _columnSums?.zero_();
            Batches = 0;
        }

        public void Dispose()
        {
            _product?.Dispose();
            _columnSums?.Dispose();
        }
    }

    /// <summary>Chan state (n, mean, M2) plus the raw power sums of the pending chunk.</summary>
    private sealed class Entry : IDisposable
    {
        private long _pending;

        public Entry(long size)
        {
            Mean = zeros(size, ScalarType.Float64).DetachFromDisposeScope();
            M2 = zeros(size, ScalarType.Float64).DetachFromDisposeScope();
            Sum = zeros(size, ScalarType.Float64).DetachFromDisposeScope();
            SumOfSquares = zeros(size, ScalarType.Float64).DetachFromDisposeScope();
        }

        public long Count { get; private set; }
        public Tensor Mean { get; }
        public Tensor M2 { get; }
        private Tensor Sum { get; }
        private Tensor SumOfSquares { get; }

        /// <summary>Adds a slice of a pending product into S1 or S2.</summary>
        public void AddSlice(Tensor slice, bool sumOfSquares, int factor)
        {
            var target = sumOfSquares ? SumOfSquares : Sum;
            target.PlusInPlace(factor == 1 ? slice : slice.mul(TensorMath.C(factor, slice.dtype)));
        }

        public void AddCount(long count) => _pending += count;

        /// <summary>Chan: n = na + nb, d = μb − μa, μ += d nb/n, M2 += M2b + d² na nb/n; then the chunk restarts.</summary>
        public void Fold()
        {
            if (_pending == 0)
                return;
            double nb = _pending, na = Count, n = na + nb;
            var meanB = Sum.div(tensor(nb, ScalarType.Float64));
            var m2B = SumOfSquares.Minus(Sum.mul(meanB)).relu(); // clamp at 0 without a Scalar
            var d = meanB.Minus(Mean);
            Mean.PlusInPlace(d.mul(tensor(nb / n, ScalarType.Float64)));
            M2.PlusInPlace(m2B.Plus(d.mul(d).mul(tensor(na * nb / n, ScalarType.Float64))));
            Count += _pending;
            _pending = 0;
            Sum.zero_();
            SumOfSquares.zero_();
        }

        public void Dispose()
        {
            Mean.Dispose();
            M2.Dispose();
            Sum.Dispose();
            SumOfSquares.Dispose();
        }
    }
}

/// <summary>
/// The number of values one stream (of Elements parameters) takes from a batch; its power sums S1 = Σv, S2 = Σv² arrive
/// in the batch's Gram blocks (none for a stream whose values are all zero: only the count moves).
/// </summary>
internal readonly record struct StreamCount(MomentKey Key, long Count, long Elements);
