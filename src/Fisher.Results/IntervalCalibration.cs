namespace Fisher.Results;

/// <summary>
/// What the calibration suite measured of the reported intervals (bench/Fisher.Calibration; the full table is
/// docs/calibration.md, whose "Pooled coverage ranges" line these numbers must equal: tests/Fisher.Calibration.Tests).
/// </summary>
public static class IntervalCalibration
{
    /// <summary>The pooled coverage ranges of the full suite, as the suite prints them.</summary>
    public const string Ranges = "90 % intervals 89.4–90.2 %; 95 % intervals 94.6–95.0 %; 99 % intervals 98.5–99.1 %";

    /// <summary>The sentence report.md carries.</summary>
    public const string Summary =
        "Intervals calibrated on 54 small networks × 100 jobs each (categorical, Gaussian and Bernoulli outputs; tanh, sigmoid "
        + "and ReLU; K = 1 to 64 draws; N = 200 to 2,000 inputs; both targets), against exactly enumerated truths: pooled coverage of "
        + Ranges + " (docs/calibration.md).";
}
