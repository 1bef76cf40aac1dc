using System.Globalization;

namespace Fisher.Results;

/// <summary>How every table of the project (CLI, report, sweep log) writes numbers: invariant culture, one style.</summary>
public static class NumberFormat
{
    /// <summary>Written for a missing or undefined number.</summary>
    public const string Missing = "–";

    /// <summary>4 significant digits in [0.01, 10⁴), otherwise scientific ("3.06e-4"); NaN as <see cref="Missing"/>.</summary>
    public static string Format(double value) =>
        double.IsNaN(value) ? Missing
        : double.IsInfinity(value) ? (value > 0 ? "∞" : "−∞")
        : value.ToString(Math.Abs(value) is >= 1e-2 and < 1e4 or 0 ? "0.####" : "0.00e+0", CultureInfo.InvariantCulture);

    /// <inheritdoc cref="Format(double)"/>
    public static string Format(double? value) => value is { } v ? Format(v) : Missing;

    /// <summary>A share as a percentage: one decimal below 10 %, none above ("4.2%", "37%").</summary>
    public static string Percent(double share) =>
        double.IsFinite(share) ? (100 * share).ToString(Math.Abs(share) < 0.1 ? "0.0" : "0", CultureInfo.InvariantCulture) + "%" : Missing;

    /// <summary>A count with thousands separators, rounded up ("1,234").</summary>
    public static string Count(double value) =>
        double.IsFinite(value) ? Math.Ceiling(value).ToString("N0", CultureInfo.InvariantCulture) : Missing;
}
