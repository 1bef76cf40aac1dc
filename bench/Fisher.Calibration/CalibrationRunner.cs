using Fisher.Estimators;
using Fisher.Results;
using static TorchSharp.torch;

namespace Fisher.Calibration;

/// <summary>What one case measured: coverage per (estimate key, target, level), and the entries whose variance is 0.</summary>
public sealed record CaseResult(CalibrationCase Case, IReadOnlyDictionary<(string Estimate, Target Target, double Level), Coverage> Coverages,
    long DeterministicEntries, long DeterministicMismatches);

/// <summary>
/// Runs the jobs of one <see cref="CalibrationCase"/> with the estimator core and measures how often the intervals the
/// results report (<see cref="EstimateVariance"/>, <see cref="ConfidenceInterval"/>) cover the truth: for the job's inputs,
/// the exact diagonal of those inputs (enumerated over the labels, float64); for the input distribution, the exact
/// diagonal and the empirical Fisher of the whole pool.
/// </summary>
public static class CalibrationRunner
{
    /// <summary>The two-sided levels measured.</summary>
    public static IReadOnlyList<double> Levels { get; } = [0.90, 0.95, 0.99];

    private const FisherQuantity Quantities = FisherQuantity.All | FisherQuantity.InputMeans | FisherQuantity.PowerSums;

    public static CaseResult Run(CalibrationCase c, int seed)
    {
        ArgumentNullException.ThrowIfNull(c);
        using var scope = NewDisposeScope();
        using var problem = CalibrationProblem.Create(c.Family, c.Activation, seed);
        var truth = problem.Truth;
        var parameters = problem.Parameters;
        // Each case draws its own input subsets (the network and the pool are shared by the cases of a family and activation).
        var subsets = new Generator((ulong)(4000 + seed) * 1_000_003UL + (ulong)c.Draws * 10_007UL + (ulong)c.Inputs);

        var coverages = new Dictionary<(string, Target, double), Coverage>();
        long deterministic = 0, mismatches = 0;
        var counts = new Dictionary<(string, Target, double), (long Covered, long Entries)>();
        for (int r = 0; r < c.Repetitions; r++)
        {
            using var repetition = NewDisposeScope();
            var rows = randint(0, CalibrationCase.PoolSize, [c.Inputs], ScalarType.Int64, generator: subsets);
            var moments = problem.Run(Quantities, c.Draws, (ulong)(seed * 100_003L + r), rows);
            counts.Clear();
            foreach (var estimate in QuantityCatalog.Estimates)
            {
                foreach (var parameter in parameters)
                {
                    var variance = EstimateVariance.Of(estimate, parameter, name => CalibrationProblem.Find(moments, name))!;
                    var values = moments[parameter, estimate.Stream].Mean;
                    foreach (var target in Enum.GetValues<Target>())
                    {
                        if (target == Target.GivenInputs && estimate.ConditionalVarianceStream == FisherQuantity.None)
                            continue; // fixed given the inputs and their labels: nothing to cover
                        var truths = target == Target.GivenInputs ? moments[parameter, FisherQuantity.Exact].Mean
                            : truth[parameter, estimate.Stream == FisherQuantity.Empirical ? FisherQuantity.Empirical : FisherQuantity.Exact].Mean;
                        var variances = target == Target.GivenInputs ? variance.GivenInputs! : variance.OfDistribution;
                        var inputVariance = truth[parameter, estimate.Stream == FisherQuantity.Empirical ? FisherQuantity.Empirical : FisherQuantity.Exact].M2;
                        for (int i = 0; i < values.Length; i++)
                        {
                            double error = Math.Abs(values[i] - truths[i]);
                            double rounding = 1e-9 * Math.Abs(truths[i]) + 1e-300;
                            bool noLabelNoise = target == Target.Distribution ? estimate.ConditionalVarianceStream == FisherQuantity.None || variance.GivenInputs![i] == 0 : true;
                            if (noLabelNoise && (target == Target.GivenInputs ? !(variances[i] > 0) : !(inputVariance[i] > 0)))
                            {
                                // No randomness at all (given the inputs: Î2 of the last layer or of a ReLU network, where V2 = 0;
                                // over the pool: an entry constant over every input, like a Gaussian output bias's I = 1/σ²):
                                // the estimate must equal the truth. Counted apart, not as coverage.
                                deterministic++;
                                if (error > rounding)
                                    mismatches++;
                                continue;
                            }
                            foreach (var level in Levels)
                            {
                                var key = (estimate.Key, target, level);
                                var (covered, entries) = counts.GetValueOrDefault(key);
                                var (lower, upper) = target == Target.GivenInputs ? variance.IntervalGivenInputs(values[i], i, level) : variance.IntervalOfDistribution(values[i], i, level);
                                bool inside = truths[i] >= lower - rounding && truths[i] <= upper + rounding;
                                counts[key] = (covered + (inside ? 1 : 0), entries + 1);
                            }
                        }
                    }
                }
            }
            foreach (var (key, (covered, entries)) in counts)
            {
                if (!coverages.TryGetValue(key, out var coverage))
                    coverages[key] = coverage = new Coverage();
                coverage.Add(covered, entries);
            }
        }
        return new CaseResult(c, coverages, deterministic, mismatches);
    }
}
