namespace Fisher.Estimators;

/// <summary>
/// Moments per (parameter, quantity): what one batch produces and what workers and aggregators merge.
/// </summary>
public sealed class FisherMoments
{
    private readonly Dictionary<MomentKey, Moments> _moments = [];

    /// <summary>Number of inputs merged.</summary>
    public long Inputs { get; private set; }

    /// <summary>All streams.</summary>
    public IReadOnlyDictionary<MomentKey, Moments> Streams => _moments;

    /// <summary>The moments of one parameter and quantity; throws naming what exists when absent.</summary>
    public Moments this[string parameter, FisherQuantity quantity] =>
        _moments.TryGetValue(new MomentKey(parameter, quantity), out var m)
            ? m
            : throw new KeyNotFoundException($"no moments for {quantity.StreamName(parameter)}; present: {string.Join(", ", _moments.Keys)}");

    /// <summary>Adds one stream (used by the estimator when it builds a batch result).</summary>
    internal void Add(MomentKey key, Moments moments) => _moments.Add(key, moments);

    internal void AddInputs(long inputs) => Inputs += inputs;

    /// <summary>Merges another set into this one (Chan's update per stream); streams absent here are copied.</summary>
    public void Merge(FisherMoments other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var (key, moments) in other._moments)
        {
            if (_moments.TryGetValue(key, out var mine))
                mine.Merge(moments);
            else
                _moments.Add(key, moments.Clone());
        }
        Inputs += other.Inputs;
    }
}
