using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// A worker's running moments per (parameter, quantity), kept as float64 tensors and merged batch by batch with
/// Chan's update in torch (estimators.md §9.6), so the hot loop allocates no managed arrays. Take a managed copy
/// with <see cref="ToMoments"/> when a partial leaves the worker. Owns native memory: dispose it.
/// </summary>
public sealed class FisherAccumulator : IDisposable
{
    private readonly Dictionary<MomentKey, Entry> _entries = [];

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
            var s1 = sums.Sum.reshape(-1);
            var nb = tensor((double)sums.Count, ScalarType.Float64);
            var meanB = s1.div(nb);
            var m2B = sums.SumOfSquares.reshape(-1).sub(s1.mul(meanB)).relu(); // clamp at 0 without a Scalar
            if (!_entries.TryGetValue(sums.Key, out var entry))
            {
                _entries[sums.Key] = new Entry(sums.Count, meanB.clone().DetachFromDisposeScope(), m2B.clone().DetachFromDisposeScope());
                continue;
            }
            double na = entry.Count, n = na + sums.Count;
            var d = meanB.sub(entry.Mean);
            entry.Mean.add_(d.mul(tensor(sums.Count / n, ScalarType.Float64)));
            entry.M2.add_(m2B.add(d.mul(d).mul(tensor(na * sums.Count / n, ScalarType.Float64))));
            entry.Count += sums.Count;
        }
        Inputs += inputs;
    }

    /// <summary>A managed copy of every stream.</summary>
    public FisherMoments ToMoments()
    {
        var result = new FisherMoments();
        foreach (var (key, entry) in _entries)
            result.Add(key, new Moments(entry.Count, Copy(entry.Mean), Copy(entry.M2)));
        result.AddInputs(Inputs);
        return result;
    }

    private static double[] Copy(Tensor t) => MemoryMarshal.Cast<byte, double>(t.bytes).ToArray();

    /// <summary>Forgets every stream (after a partial was taken).</summary>
    public void Clear()
    {
        foreach (var entry in _entries.Values)
            entry.Dispose();
        _entries.Clear();
        Inputs = 0;
    }

    /// <inheritdoc />
    public void Dispose() => Clear();

    private sealed class Entry(long count, Tensor mean, Tensor m2) : IDisposable
    {
        public long Count { get; set; } = count;
        public Tensor Mean { get; } = mean;
        public Tensor M2 { get; } = m2;

        public void Dispose()
        {
            Mean.Dispose();
            M2.Dispose();
        }
    }
}

/// <summary>Power sums of one stream of a batch: S1 = Σv and S2 = Σv² per element, float64, over Count values.</summary>
internal readonly record struct PowerSums(MomentKey Key, long Count, Tensor Sum, Tensor SumOfSquares);
