namespace Fisher.Estimators;

/// <summary>
/// The names of an enum's values in specs, files and options: one canonical name per value (written) and the aliases
/// accepted when reading, matched without regard to case or surrounding blanks.
/// </summary>
public sealed class ValueNames<T> where T : struct, Enum
{
    private readonly (T Value, string[] Names)[] _table;

    /// <param name="what">What the values are, for errors ("likelihood").</param>
    /// <param name="table">Per value its names, the canonical one first.</param>
    public ValueNames(string what, params (T Value, string[] Names)[] table)
    {
        ArgumentNullException.ThrowIfNull(table);
        What = what;
        _table = table;
    }

    /// <summary>What the values are.</summary>
    public string What { get; }

    /// <summary>The canonical names, in table order.</summary>
    public IEnumerable<string> Keys => _table.Select(t => t.Names[0]);

    /// <summary>The canonical name of <paramref name="value"/>.</summary>
    public string Key(T value) =>
        _table.FirstOrDefault(t => t.Value.Equals(value)).Names?[0] ?? throw new ArgumentOutOfRangeException(nameof(value), value, $"not a {What}");

    /// <summary>The value named <paramref name="text"/>; throws <see cref="ArgumentException"/> listing the names otherwise.</summary>
    public T Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var name = text.Trim();
        foreach (var (value, names) in _table)
        {
            if (names.Any(n => n.Equals(name, StringComparison.OrdinalIgnoreCase)))
                return value;
        }
        throw new ArgumentException($"unknown {What} '{text}'; expected {string.Join(", ", Keys.SkipLast(1))} or {Keys.Last()}", nameof(text));
    }
}
