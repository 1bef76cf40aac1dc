using Fisher.Estimators;

namespace Fisher.Results;

/// <summary>The merged moments of one parameter group, keyed by <c>&lt;parameter&gt;.&lt;stream key&gt;</c>.</summary>
public sealed record GroupMoments(string Group, long Inputs, IReadOnlyList<string> MergedTasks, IReadOnlyDictionary<string, Moments> Streams)
{
    /// <summary>The group's parameters, in stream order.</summary>
    public IReadOnlyList<string> Parameters { get; } = Streams.Keys.Select(k => SplitKey(k).Parameter).Distinct().ToArray();

    /// <summary>The stream with this name, or null.</summary>
    public Moments? Stream(string name) => Streams.TryGetValue(name, out var moments) ? moments : null;

    /// <summary>The stream of <paramref name="quantity"/> for <paramref name="parameter"/>, or null.</summary>
    public Moments? Stream(string parameter, FisherQuantity quantity) => Stream(quantity.StreamName(parameter));

    /// <summary>Whether every parameter of the group has a stream of <paramref name="quantity"/>.</summary>
    public bool Has(FisherQuantity quantity) => Parameters.Count > 0 && Parameters.All(p => Streams.ContainsKey(quantity.StreamName(p)));

    /// <summary>Splits <c>&lt;parameter&gt;.&lt;quantity&gt;</c> at its last dot.</summary>
    public static (string Parameter, string Quantity) SplitKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        int dot = key.LastIndexOf('.');
        return dot < 0 ? (key, "") : (key[..dot], key[(dot + 1)..]);
    }
}
