namespace Fisher.Results.Reports;

/// <summary>What <see cref="ReportWriter.Write(string, JobResult)"/> wrote.</summary>
/// <param name="ReportPath">The full path of report.md.</param>
/// <param name="Plots">The PNG files written (full paths), in report order.</param>
/// <param name="Skipped">One line per plot not drawn, saying why.</param>
public sealed record ReportResult(string ReportPath, IReadOnlyList<string> Plots, IReadOnlyList<string> Skipped);
