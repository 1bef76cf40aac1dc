namespace Fisher.Results.Reports;

/// <summary>Percentiles of log10(bound / V) over a group's parameters with V &gt; 0 and bound &gt; 0.</summary>
internal sealed record TightnessStatistics(int Used, int Excluded, double P5, double P25, double Median, double P75, double P95, double Min, double Max);
