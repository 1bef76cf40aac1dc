using System.Globalization;
using System.Text;
using Fisher.Estimators;
using Fisher.Results;
using static TorchSharp.torch;

namespace Fisher.Calibration;

/// <summary>One configuration of the stopping-rule check: jobs with <c>--target-rel-error ε --delta δ</c> on a family and activation, K draws.</summary>
public sealed record StoppingCase(LikelihoodFamily Family, string Activation, string Estimate, int Draws, double Epsilon, double Delta, int Jobs)
{
    public string Name => string.Create(CultureInfo.InvariantCulture, $"{Family.ToString().ToLowerInvariant()} {Activation} {Estimate} K={Draws} ε={Epsilon} δ={Delta}");
}

/// <summary>
/// What the stopped jobs of one case realised: per (job, layer group, estimate) the relative error ‖Î − I‖₂/‖I‖₂ against the
/// input distribution's Fisher when the job stopped.
/// </summary>
public sealed record StoppingResult(StoppingCase Case, int Stopped, int Capped, long Checks, long Exceeded, int JobsExceeding, double MeanInputs, double WorstError)
{
    /// <summary>Share of the stopped (job, group, estimate) checks whose realised error exceeds ε.</summary>
    public double ExceededShare => Checks == 0 ? double.NaN : (double)Exceeded / Checks;
}

/// <summary>
/// The <c>--target-rel-error</c> rule as the coordinator applies it (after each round of inputs, every layer group's
/// estimates must have <see cref="Precision.Reaches"/> from <see cref="QuantityCatalog.PrecisionOf(QuantityInfo, IEnumerable{string}, Func{string, Moments?})"/>),
/// run on the suite's networks with rounds of <see cref="RoundSize"/> inputs drawn from the pool, up to
/// <see cref="MaxInputs"/>; then the realised error of every estimate of every group against the pool's truth.
/// </summary>
public static class StoppingRule
{
    public const int RoundSize = 100;
    public const int MaxInputs = 20_000;

    private const FisherQuantity Quantities = FisherQuantity.SquaredScore | FisherQuantity.NegativeHessian | FisherQuantity.Exact | FisherQuantity.Empirical
        | FisherQuantity.SquaredScoreVariance | FisherQuantity.NegativeHessianVariance | FisherQuantity.InputMeans | FisherQuantity.PowerSums;

    public static StoppingResult Run(StoppingCase c, int seed)
    {
        ArgumentNullException.ThrowIfNull(c);
        using var scope = NewDisposeScope();
        using var problem = CalibrationProblem.Create(c.Family, c.Activation, seed);
        var groups = problem.Network.Layout.Groups(Grouping.PerLayer).Select(g => g.Parameters.Select(p => p.Name).ToArray()).ToArray();
        var estimates = new[] { QuantityCatalog.Find(c.Estimate) ?? throw new ArgumentException($"unknown estimate '{c.Estimate}'", nameof(c)) };
        var rows = new Generator((ulong)(5000 + seed) * 1_000_003UL + (ulong)c.Draws * 10_007UL + (ulong)Math.Round(c.Epsilon * 1000) + (ulong)Array.IndexOf(QuantityCatalog.Estimates.ToArray(), estimates[0]) * 7);
        int stopped = 0, capped = 0, jobsExceeding = 0;
        long checks = 0, exceeded = 0, inputsTotal = 0;
        double worst = 0;
        for (int job = 0; job < c.Jobs; job++)
        {
            FisherMoments? total = null;
            long inputs = 0;
            bool reached = false;
            while (!reached && inputs < MaxInputs)
            {
                using var round = NewDisposeScope();
                var part = problem.Run(Quantities, c.Draws, (ulong)(seed * 100_003L + job), randint(0, CalibrationCase.PoolSize, [RoundSize], ScalarType.Int64, generator: rows), inputs);
                if (total is null)
                    total = part;
                else
                    total.Merge(part);
                inputs += RoundSize;
                var moments = total;
                reached = groups.All(g => estimates.All(e =>
                    e.PrecisionOf(g, name => CalibrationProblem.Find(moments, name)) is { } precision && precision.Reaches(c.Epsilon, c.Delta)));
            }
            inputsTotal += inputs;
            if (!reached)
            {
                capped++;
                continue;
            }
            stopped++;
            bool any = false;
            foreach (var g in groups)
            {
                foreach (var e in estimates)
                {
                    var truthStream = e.Stream == FisherQuantity.Empirical ? FisherQuantity.Empirical : FisherQuantity.Exact;
                    double errors = 0, norm = 0;
                    foreach (var parameter in g)
                    {
                        var estimate = total![parameter, e.Stream].Mean;
                        var truth = problem.Truth[parameter, truthStream].Mean;
                        for (int i = 0; i < estimate.Length; i++)
                        {
                            errors += (estimate[i] - truth[i]) * (estimate[i] - truth[i]);
                            norm += truth[i] * truth[i];
                        }
                    }
                    double error = Math.Sqrt(errors / norm);
                    worst = Math.Max(worst, error);
                    checks++;
                    if (error > c.Epsilon)
                    {
                        exceeded++;
                        any = true;
                    }
                }
            }
            if (any)
                jobsExceeding++;
        }
        return new StoppingResult(c, stopped, capped, checks, exceeded, jobsExceeding, (double)inputsTotal / Math.Max(1, c.Jobs), worst);
    }

    /// <summary>
    /// Every family and activation at K = 1 and δ = 0.05, each job targeting one estimate: Î1, Î2, exact and empirical
    /// at ε = 0.2 and 0.1 (<paramref name="reduced"/>: Î1 and exact at ε = 0.2).
    /// </summary>
    public static IReadOnlyList<StoppingCase> Cases(bool reduced, int jobs) =>
        (from family in Suite.Families
         from activation in Suite.Activations
         from estimate in reduced ? new[] { "i1", "exact" } : new[] { "i1", "i2", "exact", "empirical" }
         from epsilon in reduced ? new[] { 0.2 } : new[] { 0.2, 0.1 }
         select new StoppingCase(family, activation, estimate, 1, epsilon, 0.05, jobs)).ToArray();

    public static string Header(int jobs) =>
        $"""
        ## The --target-rel-error rule

        {jobs} jobs per case, each drawing rounds of {RoundSize} inputs from the pool (at most {MaxInputs:N0}) and checking after every
        round, as the coordinator does between rounds of shards, whether every layer group's requested estimate (one per
        case) reaches relative error ε with probability 1 − δ (Chebyshev on the group's diagonal with the variance of §3.4,
        docs/estimators.md §7.1). When a job stops, the realised error ‖Î − I‖₂/‖I‖₂ of every group and estimate is measured
        against the pool's Fisher. The promise holds when at most a share δ of the stopped groups, and of the stopped jobs,
        exceed ε. Jobs that reach the cap without stopping are counted apart ("capped").

        """;

    public static string Table(IEnumerable<StoppingResult> results)
    {
        var table = new StringBuilder("| case | jobs stopped (capped) | mean inputs | groups past ε | jobs with any past ε | worst error |\n|---|---:|---:|---:|---:|---:|\n");
        foreach (var r in results)
            table.Append(CultureInfo.InvariantCulture, $"| {r.Case.Name} | {r.Stopped} ({r.Capped}) | {r.MeanInputs:N0} | {r.Exceeded} of {r.Checks} ({r.ExceededShare * 100:F1} %) | {r.JobsExceeding} | {r.WorstError:F3} |\n");
        return table.ToString();
    }
}
