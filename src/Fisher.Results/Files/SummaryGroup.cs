namespace Fisher.Results;

/// <summary>One parameter group in summary.json: its parameters, entries, quantities (by result key) and decision.</summary>
public sealed record SummaryGroup
{
    public string Name { get; set; } = "";

    public IReadOnlyList<string> Parameters { get; set; } = [];

    /// <summary>Entries (scalar parameters) in the group.</summary>
    public long Size { get; set; }

    public IReadOnlyDictionary<string, SummaryQuantity> Quantities { get; set; } = new Dictionary<string, SummaryQuantity>();

    public GroupDecision Decision { get; set; } = new();

    /// <summary>The quantity with this catalog entry, or null.</summary>
    public SummaryQuantity? Quantity(QuantityInfo quantity) =>
        Quantities.TryGetValue((quantity ?? throw new ArgumentNullException(nameof(quantity))).Key, out var q) ? q : null;
}
