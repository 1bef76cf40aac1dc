using System.Globalization;
using System.Text;
using Fisher.Estimators;
using Fisher.Results;

namespace Fisher.Calibration;

/// <summary>
/// The calibration suite (issue 16): its cases, the pooled coverage per likelihood, estimate and target, and the
/// acceptance rule both the full run and the reduced CI test apply.
/// </summary>
public static class Suite
{
    public static IReadOnlyList<LikelihoodFamily> Families { get; } = [LikelihoodFamily.Categorical, LikelihoodFamily.Gaussian, LikelihoodFamily.Bernoulli];

    public static IReadOnlyList<string> Activations { get; } = ["tanh", "sigmoid", "relu"];

    /// <summary>Every family × activation × K ∈ {1, 8, 64} × N ∈ {200, 2000}.</summary>
    public static IReadOnlyList<CalibrationCase> Full(int repetitions) =>
        (from family in Families
         from activation in Activations
         from draws in new[] { 1, 8, 64 }
         from inputs in new[] { 200, 2000 }
         select new CalibrationCase(family, activation, draws, inputs, repetitions)).ToArray();

    /// <summary>Every family × activation once, with (K, N) rotating through (1, 200), (8, 2000), (64, 200) so that each family meets every K.</summary>
    public static IReadOnlyList<CalibrationCase> Reduced(int repetitions)
    {
        (int K, int N)[] sizes = [(1, 200), (8, 2000), (64, 200)];
        return Families.SelectMany((family, f) => Activations.Select((activation, a) =>
        {
            var (k, n) = sizes[(f + a) % sizes.Length];
            return new CalibrationCase(family, activation, k, n, repetitions);
        })).ToArray();
    }

    /// <summary>Coverage pooled over the cases of each family, per (family, estimate, target, level).</summary>
    public static IReadOnlyDictionary<(LikelihoodFamily Family, string Estimate, Target Target, double Level), Coverage> Pool(IEnumerable<CaseResult> results)
    {
        var pooled = new Dictionary<(LikelihoodFamily, string, Target, double), Coverage>();
        foreach (var result in results)
        {
            foreach (var ((estimate, target, level), coverage) in result.Coverages)
            {
                var key = (result.Case.Family, estimate, target, level);
                if (!pooled.TryGetValue(key, out var total))
                    pooled[key] = total = new Coverage();
                total.Add(coverage);
            }
        }
        return pooled;
    }

    /// <summary>
    /// The acceptance band of a level: 95 % intervals must cover 94–96 % of entries, 90 % and 99 % intervals within
    /// ±1.5 points of nominal.
    /// </summary>
    public static (double Low, double High) Band(double level) =>
        level == 0.95 ? (0.94, 0.96) : (level - 0.015, Math.Min(1.0, level + 0.015));

    /// <summary>The pooled coverages outside their band, as lines ("categorical i1 given inputs 95 %: 92.1 %").</summary>
    public static IReadOnlyList<string> Failures(IReadOnlyDictionary<(LikelihoodFamily Family, string Estimate, Target Target, double Level), Coverage> pooled) =>
        pooled.Where(p => p.Value.Share < Band(p.Key.Level).Low || p.Value.Share > Band(p.Key.Level).High)
            .Select(p => $"{p.Key.Family.ToString().ToLowerInvariant()} {p.Key.Estimate} {Describe(p.Key.Target)} {Percent(p.Key.Level)}: {Percent(p.Value.Share)} ± {Percent(p.Value.StandardError)}")
            .ToArray();

    /// <summary>The pooled table in Markdown: a row per family, estimate and target; a column per level, "share ± s.e.".</summary>
    public static string Table(IReadOnlyDictionary<(LikelihoodFamily Family, string Estimate, Target Target, double Level), Coverage> pooled)
    {
        var table = new StringBuilder("| likelihood | estimate | target | jobs | entries |");
        foreach (var level in CalibrationRunner.Levels)
            table.Append(' ').Append(Percent(level)).Append(" interval |");
        table.Append("\n|---|---|---|---:|---:|").Append(string.Concat(CalibrationRunner.Levels.Select(_ => "---:|"))).Append('\n');
        foreach (var family in Families)
        {
            foreach (var estimate in QuantityCatalog.Estimates)
            {
                foreach (var target in Enum.GetValues<Target>())
                {
                    if (!pooled.TryGetValue((family, estimate.Key, target, CalibrationRunner.Levels[0]), out var first))
                        continue;
                    table.Append(CultureInfo.InvariantCulture, $"| {family.ToString().ToLowerInvariant()} | {estimate.Symbol} | {Describe(target)} | {first.Repetitions} | {first.Entries:N0} |");
                    foreach (var level in CalibrationRunner.Levels)
                    {
                        var c = pooled[(family, estimate.Key, target, level)];
                        table.Append(CultureInfo.InvariantCulture, $" {c.Share * 100:F1} ± {c.StandardError * 100:F1} |");
                    }
                    table.Append('\n');
                }
            }
        }
        return table.ToString();
    }

    /// <summary>What the suite ran and how to read its tables.</summary>
    public static string Header(bool reduced, int repetitions, int seed, int cases) =>
        $"""
        # Calibration of the reported intervals

        Made by `dotnet run -c Release --project bench/Fisher.Calibration -- {(reduced ? "--reduced " : "")}--stopping-jobs J` ({(reduced ? "reduced" : "full")} suite: {cases} cases,
        {repetitions} jobs each, seed {seed}); `tests/Fisher.Calibration.Tests` runs the reduced suite in CI. How the intervals are
        built: docs/estimators.md §3.4–3.5.

        Each case is a random MLP 4-8-6-C (C = 3 classes, 2 Gaussian outputs or 3 Bernoulli outputs) with tanh, sigmoid or
        ReLU units, a pool of {CalibrationCase.PoolSize:N0} Gaussian inputs with labels from a second random network of the
        same shape, and jobs of N inputs drawn with replacement from the pool and K label draws each, every job with its own
        label seed and inputs. Every job computes Î1, Î2, the exact diagonal and the empirical Fisher with their variances
        and intervals, as a real job does (`EstimateVariance`, `ConfidenceInterval`), in float64. The truths are enumerated:
        given the inputs, the exact diagonal of the job's N inputs; for the input distribution, the exact diagonal and the
        empirical Fisher of the whole pool. Coverage is the share of (parameter, job) entries whose truth lies in the
        interval; ± is its standard error from the spread of the jobs' own coverages (the entries of one job share its
        draws and inputs). Entries with no randomness at all (Î2 given the inputs where V2 = 0; entries constant over the
        pool) are counted apart and must equal their truth. Bands: 94–96 % for 95 % intervals, ±1.5 points for 90 % and 99 %.

        ## Coverage pooled per likelihood, estimate and target

        """;

    /// <summary>One line: the lowest and highest pooled coverage per level (report.md's "intervals calibrated on" sentence quotes it).</summary>
    public static string Ranges(IReadOnlyDictionary<(LikelihoodFamily Family, string Estimate, Target Target, double Level), Coverage> pooled) =>
        "Pooled coverage ranges: " + string.Join("; ", CalibrationRunner.Levels.Select(level =>
        {
            var shares = pooled.Where(p => p.Key.Level == level).Select(p => p.Value.Share * 100).ToArray();
            return string.Create(CultureInfo.InvariantCulture, $"{level * 100:0} % intervals {shares.Min():F1}–{shares.Max():F1} %");
        })) + ".";

    /// <summary>Per-case rows for the 95 % interval: how each configuration contributes.</summary>
    public static string CaseTable(IEnumerable<CaseResult> results)
    {
        var table = new StringBuilder("| case | Î1 given x | Î2 given x | Î1 dist. | Î2 dist. | exact dist. | empirical dist. | zero-variance entries (mismatches) |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var r in results)
        {
            string Cell(string estimate, Target target) =>
                r.Coverages.TryGetValue((estimate, target, 0.95), out var c) ? (c.Share * 100).ToString("F1", CultureInfo.InvariantCulture) : "–";
            table.Append(CultureInfo.InvariantCulture,
                $"| {r.Case.Name} | {Cell("i1", Target.GivenInputs)} | {Cell("i2", Target.GivenInputs)} | {Cell("i1", Target.Distribution)} | {Cell("i2", Target.Distribution)} | {Cell("exact", Target.Distribution)} | {Cell("empirical", Target.Distribution)} | {r.DeterministicEntries:N0} ({r.DeterministicMismatches}) |\n");
        }
        return table.ToString();
    }

    public static string Describe(Target target) => target == Target.GivenInputs ? "given inputs" : "distribution";

    private static string Percent(double share) => (share * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %";
}
