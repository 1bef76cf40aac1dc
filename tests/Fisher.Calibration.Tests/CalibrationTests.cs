using Fisher.Results;
using Xunit.Abstractions;

namespace Fisher.Calibration.Tests;

/// <summary>
/// Issue 16, acceptance 1 in its reduced form: the calibration suite's reduced cases (every likelihood and activation,
/// K from 1 to 64, N 200 and 2,000), 120 jobs each, and the coverage of the reported 90/95/99 % intervals for every
/// estimate, likelihood and target within its band (docs/calibration.md has the full suite).
/// </summary>
public sealed class CalibrationTests(ITestOutputHelper output)
{
    private const int Repetitions = 120;

    [Fact]
    public void The_reported_intervals_keep_their_level_in_the_reduced_suite()
    {
        Fisher.Estimators.TorchRuntime.Configure(Math.Max(1, Environment.ProcessorCount));
        var results = Suite.Reduced(Repetitions).Select(c => CalibrationRunner.Run(c, seed: 1)).ToArray();
        var pooled = Suite.Pool(results);
        output.WriteLine(Suite.Table(pooled));
        output.WriteLine(Suite.CaseTable(results));

        // Every likelihood, estimate and target is measured (Î2 given the inputs only where V2 ≠ 0 somewhere).
        foreach (var family in Suite.Families)
        {
            foreach (var estimate in QuantityCatalog.Estimates)
                Assert.True(pooled.ContainsKey((family, estimate.Key, Target.Distribution, 0.95)), $"{family} {estimate.Key}: not measured");
            Assert.True(pooled.ContainsKey((family, "i1", Target.GivenInputs, 0.95)));
            Assert.True(pooled.ContainsKey((family, "i2", Target.GivenInputs, 0.95)));
        }
        Assert.All(pooled.Values, c => Assert.True(c.Repetitions >= Repetitions && c.StandardError < 0.006, $"{c.Repetitions} jobs, s.e. {c.StandardError}"));
        Assert.Empty(Suite.Failures(pooled));
        Assert.All(results, r => Assert.Equal(0, r.DeterministicMismatches));
    }

    /// <summary>
    /// Issue 16, acceptance 3 in its reduced form: jobs stopped by the <c>--target-rel-error</c> rule (ε = 0.2, δ = 0.05,
    /// every likelihood and activation, targeting Î1 or the exact diagonal, 10 jobs each) realise an error above ε in at
    /// most a share δ of their groups and of the jobs; and the rule does stop most of them (a rule that never stops keeps
    /// any promise).
    /// </summary>
    [Fact]
    public void Jobs_stopped_at_the_target_error_keep_it_with_probability_one_minus_delta()
    {
        Fisher.Estimators.TorchRuntime.Configure(Math.Max(1, Environment.ProcessorCount));
        var results = StoppingRule.Cases(reduced: true, jobs: 10).Select(c => StoppingRule.Run(c, seed: 1)).ToArray();
        output.WriteLine(StoppingRule.Table(results));
        Assert.True(results.Sum(r => r.Stopped) >= results.Sum(r => r.Case.Jobs) * 3 / 4, $"only {results.Sum(r => r.Stopped)} jobs stopped");
        foreach (var r in results.Where(r => r.Stopped > 0))
        {
            Assert.True(r.ExceededShare <= r.Case.Delta, $"{r.Case.Name}: {r.Exceeded} of {r.Checks} groups past ε");
            Assert.True((double)r.JobsExceeding / r.Stopped <= r.Case.Delta, $"{r.Case.Name}: {r.JobsExceeding} of {r.Stopped} jobs past ε");
            Assert.True(r.MeanInputs > StoppingRule.RoundSize, $"{r.Case.Name}: stopped after the first round");
        }
    }

    /// <summary>report.md's "intervals calibrated on" sentence quotes the full suite's ranges in docs/calibration.md.</summary>
    [Fact]
    public void The_report_quotes_the_measured_ranges()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Fisher.Distributed.sln")))
            folder = folder.Parent;
        Assert.NotNull(folder);
        var line = File.ReadAllLines(Path.Combine(folder.FullName, "docs", "calibration.md")).Single(l => l.StartsWith("Pooled coverage ranges: ", StringComparison.Ordinal));
        Assert.Equal("Pooled coverage ranges: " + IntervalCalibration.Ranges + ".", line);
        Assert.Contains(IntervalCalibration.Ranges, IntervalCalibration.Summary, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(50, 0.95, 2.009575)]
    [InlineData(200, 0.95, 1.971957)]
    [InlineData(200, 0.99, 2.600887)]
    [InlineData(2000, 0.90, 1.645616)]
    public void For_normal_values_the_half_width_is_students_t(int inputs, double level, double studentT)
    {
        // t quantiles with N − 1 degrees of freedom; the expansion is Student's t to order 1/N.
        double half = ConfidenceInterval.EdgeworthHalfWidth(level, new InputShape(0, 3, inputs));
        Assert.InRange(half, studentT - 2e-3, studentT + 2e-3);
        Assert.True(half > ConfidenceInterval.NormalQuantile(0.5 + level / 2));
    }

    [Fact]
    public void Skewed_values_move_the_interval_up_and_heavy_tails_widen_it()
    {
        var normal = ConfidenceInterval.Of(1.0, 0.01, 0.95, new InputShape(0, 3, 200));
        var skewed = ConfidenceInterval.Of(1.0, 0.01, 0.95, new InputShape(3, 20, 200));
        Assert.True(skewed.Lower > normal.Lower && skewed.Upper > normal.Upper);
        Assert.True(skewed.Upper - skewed.Lower > normal.Upper - normal.Lower);
        Assert.Equal(ConfidenceInterval.Of(1.0, 0.01, 0.95), ConfidenceInterval.Of(1.0, 0.01, 0.95, null));
        Assert.Equal(1.959964, ConfidenceInterval.NormalQuantile(0.975), 5);
        Assert.Equal(0.975, ConfidenceInterval.NormalCdf(1.959964), 6);
    }
}
