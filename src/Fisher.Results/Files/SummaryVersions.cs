namespace Fisher.Results;

/// <summary>Versions of the software that made a result.</summary>
public sealed record SummaryVersions
{
    public string? Fisher { get; set; }
    public string? Torchsharp { get; set; }
    public string? Orleans { get; set; }
    public string? Dotnet { get; set; }
}
