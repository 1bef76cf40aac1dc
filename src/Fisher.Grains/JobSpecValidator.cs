using System.Globalization;
using Fisher.Contracts;
using Fisher.Estimators;
using Fisher.Results;

namespace Fisher.Grains;

/// <summary>
/// The one check of a job spec's own values (the files are checked by <see cref="JobPlanner.Plan"/>): every problem
/// at once, each naming the spec field. The CLI runs it before submitting and maps the fields to its flags; the
/// coordinator runs it again on whatever it receives.
/// </summary>
public static class JobSpecValidator
{
    // Upper limits of the spec's counts: a job of more is a mistake or an attack, and every product of them the planner
    // forms (tasks, per-sample tensors in MemoryEstimate) stays far inside 64 bits.

    /// <summary>Largest batch size (rows per forward pass of a worker).</summary>
    public const int MaxBatchSize = 65_536;

    /// <summary>Largest number of label draws per input.</summary>
    public const int MaxDrawsPerInput = 65_536;

    /// <summary>Largest number of shards (a job has shards x groups tasks in its persisted state), and of concurrent tasks.</summary>
    public const int MaxShards = 10_000;

    /// <summary>Every problem of <paramref name="spec"/>; empty when it can be planned.</summary>
    public static IReadOnlyList<SpecProblem> Problems(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var problems = new List<SpecProblem>();
        void Check(bool ok, string field, string message)
        {
            if (!ok)
                problems.Add(new SpecProblem(field, message));
        }
        static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);
        void AtMost(int value, int limit, string field) => Check(value <= limit, field, $"must be at most {limit}, got {value}");

        Check(!string.IsNullOrWhiteSpace(spec.ModelPath), nameof(JobSpec.ModelPath), "is empty");
        Check(!string.IsNullOrWhiteSpace(spec.InputsPath), nameof(JobSpec.InputsPath), "is empty");
        var estimates = QuantityCatalog.EstimatesIn(spec.Quantities);
        Check(spec.Quantities != FisherQuantity.None, nameof(JobSpec.Quantities), "name at least one quantity");
        Check(!spec.Quantities.HasFlag(FisherQuantity.Empirical) || !string.IsNullOrEmpty(spec.LabelsPath), nameof(JobSpec.Quantities),
            "the empirical Fisher needs observed labels");
        Check(spec.Variance is null || (spec.Variance > 0 && double.IsFinite(spec.Variance.Value)), nameof(JobSpec.Variance),
            $"must be a positive number, got {Text(spec.Variance ?? 0)}");
        Check(spec.DrawsPerInput >= 1, nameof(JobSpec.DrawsPerInput), $"must be at least 1, got {spec.DrawsPerInput}");
        AtMost(spec.DrawsPerInput, MaxDrawsPerInput, nameof(JobSpec.DrawsPerInput));
        Check(spec.FirstInput >= 0, nameof(JobSpec.FirstInput), $"must not be negative, got {spec.FirstInput}");
        Check(spec.Inputs >= 0, nameof(JobSpec.Inputs), $"must not be negative, got {spec.Inputs} (0: every row from the first input on)");
        Check(spec.Shards >= 1, nameof(JobSpec.Shards), $"must be at least 1, got {spec.Shards}");
        AtMost(spec.Shards, MaxShards, nameof(JobSpec.Shards));
        if (spec.Inputs > 0 && ShardsProblem(spec.Shards, spec.Inputs) is { } shards)
            problems.Add(shards);
        Check(spec.BatchSize >= 1, nameof(JobSpec.BatchSize), $"must be at least 1, got {spec.BatchSize}");
        AtMost(spec.BatchSize, MaxBatchSize, nameof(JobSpec.BatchSize));
        Check(spec.MaxConcurrentTasks >= 0, nameof(JobSpec.MaxConcurrentTasks), $"must not be negative, got {spec.MaxConcurrentTasks} (0: two per silo)");
        AtMost(spec.MaxConcurrentTasks, MaxShards, nameof(JobSpec.MaxConcurrentTasks));
        Check(spec.TargetRelativeError is null || (spec.TargetRelativeError > 0 && double.IsFinite(spec.TargetRelativeError.Value)),
            nameof(JobSpec.TargetRelativeError), $"must be a positive number, got {Text(spec.TargetRelativeError ?? 0)}");
        Check(spec.TargetRelativeError is null || estimates.Count > 0, nameof(JobSpec.TargetRelativeError),
            $"needs at least one estimate among the quantities ({string.Join(", ", QuantityCatalog.Estimates.Select(q => q.Key))})");
        Check(spec.Delta is > 0 and < 1, nameof(JobSpec.Delta), $"must be in (0, 1), got {Text(spec.Delta)}");
        Check(Enum.IsDefined(spec.Grouping), nameof(JobSpec.Grouping), $"unknown grouping {(int)spec.Grouping}");
        Check(Enum.IsDefined(spec.Precision), nameof(JobSpec.Precision), $"unknown precision {(int)spec.Precision}");
        Check(spec.Likelihood is null || Enum.IsDefined(spec.Likelihood.Value), nameof(JobSpec.Likelihood), $"unknown likelihood {(int?)spec.Likelihood}");
        return problems;
    }

    /// <summary>More shards than inputs (checked again by the planner once "every row" is a number of rows).</summary>
    internal static SpecProblem? ShardsProblem(int shards, long inputs) => shards <= inputs ? null
        : new SpecProblem(nameof(JobSpec.Shards), $"{shards} shards for {inputs} inputs; use at most one shard per input");

    /// <summary>Throws a <see cref="JobSpecException"/> listing every problem, if there is one.</summary>
    public static void ThrowIfInvalid(JobSpec spec)
    {
        var problems = Problems(spec);
        if (problems.Count > 0)
            throw new JobSpecException(problems);
    }
}
