using System.Globalization;

namespace Fisher.Tests;

/// <summary>
/// Every wait of the tests in one place, scaled by <c>FISHER_TEST_TIMEOUT_SCALE</c> (a positive number, default 1).
/// The defaults are generous for a loaded 2-core machine; waits poll, so a bound costs nothing when the test passes.
/// </summary>
public static class TestTimeouts
{
    public const string Variable = "FISHER_TEST_TIMEOUT_SCALE";

    public static double Scale { get; } =
        double.TryParse(Environment.GetEnvironmentVariable(Variable), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 1;

    /// <summary>A process starting to serve: a silo's /health endpoints, a silo joining, redis-server, Prometheus (2 min).</summary>
    public static TimeSpan Startup => Of(TimeSpan.FromMinutes(2));

    /// <summary>Something that follows soon after what the test did: metrics and spans arriving, a status changing (1 min).</summary>
    public static TimeSpan Settle => Of(TimeSpan.FromMinutes(1));

    /// <summary>One job, CLI run or helper script from start to end (5 min).</summary>
    public static TimeSpan Job => Of(TimeSpan.FromMinutes(5));

    /// <summary>One HTTP request or Redis command (30 s).</summary>
    public static TimeSpan Request => Of(TimeSpan.FromSeconds(30));

    /// <summary>A process stopping after SIGTERM before it is killed (30 s).</summary>
    public static TimeSpan Stop => Of(TimeSpan.FromSeconds(30));

    /// <summary><paramref name="baseline"/> times the scale.</summary>
    public static TimeSpan Of(TimeSpan baseline) => baseline * Scale;

    /// <summary>A message for a wait that ran out, naming the setting that lengthens it.</summary>
    public static string Exceeded(TimeSpan waited, string what) =>
        string.Create(CultureInfo.InvariantCulture, $"waited {waited.TotalSeconds:0} s for {what} ({Variable}={Scale:0.##} scales every test wait)");
}
