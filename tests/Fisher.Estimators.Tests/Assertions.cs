using Xunit;

namespace Fisher.Estimators.Tests;

internal static class Assertions
{
    /// <summary>
    /// Element-wise |actual − expected| ≤ rel·|expected| + floor·max|expected| (the floor covers entries that are
    /// exactly zero in theory and cancellation in differences such as E s⁴ − I²).
    /// </summary>
    public static void Close(double[] actual, double[] expected, double rel, string what, double floor = 1e-12, double? scale = null)
    {
        Assert.Equal(expected.Length, actual.Length);
        double magnitude = scale ?? (expected.Length == 0 ? 0 : expected.Max(Math.Abs));
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = rel * Math.Abs(expected[i]) + floor * magnitude + 1e-300;
            if (!(Math.Abs(actual[i] - expected[i]) <= tolerance))
                Assert.Fail($"{what}[{i}]: got {actual[i]:R}, expected {expected[i]:R} (difference {Math.Abs(actual[i] - expected[i]):E3}, tolerance {tolerance:E3})");
        }
    }
}
