namespace Fisher.Results;

/// <summary>One group of one epoch in sweep.json.</summary>
public sealed record SweepGroup
{
    public string Name { get; set; } = "";

    public long Size { get; set; }

    /// <summary>Mean entry over the group's parameters, by result key (estimates and E_x V1, E_x V2).</summary>
    public IReadOnlyDictionary<string, double?> Means { get; set; } = new Dictionary<string, double?>();

    /// <summary>‖s.e.‖₂/‖Î‖₂ over the group, by estimate key.</summary>
    public IReadOnlyDictionary<string, double?> RelativeStandardErrors { get; set; } = new Dictionary<string, double?>();

    /// <summary>Share of the group's parameters with E_x V2 &lt; E_x V1 (null without v1 and v2).</summary>
    public double? V2BelowV1Share { get; set; }
}
