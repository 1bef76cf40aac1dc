using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// A worker's running moments per (parameter, quantity), kept as float64 tensors so the hot loop allocates no
/// managed arrays. Batches add their power sums S1 = Σv, S2 = Σv² to a pending chunk (two in-place adds per
/// stream); every <see cref="BatchesPerFold"/> batches, and before a copy is taken, the chunk is folded into the
/// (n, mean, M2) state with Chan's update (estimators.md §9.6). A chunk of a few thousand values keeps the
/// cancellation in S2 − S1²/n at float64 rounding for any realistic coefficient of variation, while the fold —
/// a dozen element-wise passes per stream — runs rarely. Take a managed copy with <see cref="ToMoments"/> when a
/// partial leaves the worker. Not thread-safe (one per worker). Owns native memory: dispose it.
/// </summary>
public sealed class FisherAccumulator : IDisposable
{
    private readonly Dictionary<MomentKey, Entry> _entries = [];
    private int _pendingBatches;

    /// <summary>Batches summed raw before they are folded into the Chan state.</summary>
    public int BatchesPerFold { get; init; } = 16;

    /// <summary>Number of inputs merged.</summary>
    public long Inputs { get; private set; }

    /// <summary>Number of (parameter, quantity) streams.</summary>
    public int Count => _entries.Count;

    /// <summary>
    /// Merges one batch of <paramref name="inputs"/> inputs: per stream the power sums S1 = Σv, S2 = Σv². Called with
    /// every stream of a batch at once, after all of its tensor work succeeded, so a failing batch changes nothing.
    /// </summary>
    internal void Merge(long inputs, IReadOnlyList<PowerSums> batch)
    {
        using var scope = NewDisposeScope();
        foreach (var sums in batch)
        {
            if (!_entries.TryGetValue(sums.Key, out var entry))
                _entries[sums.Key] = entry = new Entry(sums.Sum.numel());
            entry.Add(sums);
        }
        Inputs += inputs;
        if (++_pendingBatches >= BatchesPerFold)
            Fold();
    }

    /// <summary>A managed copy of every stream.</summary>
    public FisherMoments ToMoments()
    {
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
        Inputs = 0;
        _pendingBatches = 0;
    }

    /// <inheritdoc />
    public void Dispose() => Clear();

    private void Fold()
    {
        using var scope = NewDisposeScope();
        foreach (var entry in _entries.Values)
            entry.Fold();
        _pendingBatches = 0;
    }

    private static double[] Copy(Tensor t) => MemoryMarshal.Cast<byte, double>(t.bytes).ToArray();

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

        public void Add(PowerSums sums)
        {
            Sum.add_(sums.Sum.reshape(-1));
            SumOfSquares.add_(sums.SumOfSquares.reshape(-1));
            _pending += sums.Count;
        }

        /// <summary>Chan: n = na + nb, d = μb − μa, μ += d nb/n, M2 += M2b + d² na nb/n; then the chunk restarts.</summary>
        public void Fold()
        {
            if (_pending == 0)
                return;
            double nb = _pending, na = Count, n = na + nb;
            var meanB = Sum.div(tensor(nb, ScalarType.Float64));
            var m2B = SumOfSquares.sub(Sum.mul(meanB)).relu(); // clamp at 0 without a Scalar
            var d = meanB.sub(Mean);
            Mean.add_(d.mul(tensor(nb / n, ScalarType.Float64)));
            M2.add_(m2B.add(d.mul(d).mul(tensor(na * nb / n, ScalarType.Float64))));
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

/// <summary>Power sums of one stream of a batch: S1 = Σv and S2 = Σv² per element, float64, over Count values.</summary>
internal readonly record struct PowerSums(MomentKey Key, long Count, Tensor Sum, Tensor SumOfSquares);
