using System.CommandLine;
using Fisher.Contracts;
using Fisher.Estimators;
using Fisher.Grains;

namespace Fisher.Client;

/// <summary>
/// The options that say what a job computes, shared by estimate, submit and sweep (one definition, so their names,
/// defaults and help agree); the typed <see cref="JobSpec"/> they parse into, once; and which flag sets which spec
/// field, so the spec's problems (<see cref="JobSpecValidator"/>) are reported in the flags' words.
/// </summary>
internal sealed class JobOptions
{
    public Option<string?> Likelihood { get; } = new("--likelihood") { Description = $"Override the architecture's likelihood: {Names(SpecNames.Likelihoods.Keys)}; with an ONNX model and no --architecture, the likelihood (inputs unscaled)." };
    public Option<double?> Variance { get; } = new("--variance") { Description = "Override the Gaussian likelihood's fixed variance σ²." };
    public Option<string?> Estimators { get; } = new("--estimators")
    {
        Description = $"Comma-separated quantities: {Names(FisherQuantityNames.Singles.Select(q => q.Key()))}; all ({FisherQuantity.All.ToKeyList()}), bounds, everything. "
            + $"Default: {JobSpec.DefaultQuantities.ToKeyList()}, plus empirical when labels are given.",
    };
    public Option<int> Draws { get; } = new("--draws") { Description = "Label draws per input for Î1 and Î2.", DefaultValueFactory = _ => 1 };
    public Option<long> First { get; } = new("--first") { Description = "First input row.", DefaultValueFactory = _ => 0 };
    public Option<long> Inputs { get; } = new("--inputs") { Description = "Number of inputs (0: all rows from --first on).", DefaultValueFactory = _ => 0 };
    public Option<int> Shards { get; } = new("--shards") { Description = "Data shards (contiguous row ranges; tasks = shards x groups).", DefaultValueFactory = _ => Math.Max(2, Environment.ProcessorCount) };
    public Option<string> Grouping { get; } = new("--grouping") { Description = $"Parameter groups: {Names(SpecNames.Groupings.Keys)}.", DefaultValueFactory = _ => SpecNames.Groupings.Key(Fisher.Estimators.Grouping.PerLayer) };
    public Option<int> Batch { get; } = new("--batch-size") { Description = "Inputs per batch inside a worker.", DefaultValueFactory = _ => 256 };
    public Option<ulong> Seed { get; } = new("--seed") { Description = "Seed of the label draws (the result depends only on it, not on shards, groups or silos; a sweep uses it for every checkpoint).", DefaultValueFactory = _ => 0 };
    public Option<string> Precision { get; } = new("--precision") { Description = "Network compute dtype: float32 (each batch's Gram products in float32, summed across batches in float64) or float64 (everything in float64). Moments are always float64.", DefaultValueFactory = _ => SpecNames.DTypes.Key(ComputeDType.Float32) };

    /// <summary>Every option, to add to a command.</summary>
    public IEnumerable<Option> All => [Likelihood, Variance, Estimators, Draws, First, Inputs, Shards, Grouping, Batch, Seed, Precision];

    /// <summary>The flag that sets each spec field (the files' and target's flags are defined by the commands).</summary>
    public static IReadOnlyDictionary<string, string> Flags { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [nameof(JobSpec.ModelPath)] = "--model",
        [nameof(JobSpec.ArchitecturePath)] = "--architecture",
        [nameof(JobSpec.InputsPath)] = "--data",
        [nameof(JobSpec.LabelsPath)] = "--labels",
        [nameof(JobSpec.Likelihood)] = "--likelihood",
        [nameof(JobSpec.Variance)] = "--variance",
        [nameof(JobSpec.Quantities)] = "--estimators",
        [nameof(JobSpec.DrawsPerInput)] = "--draws",
        [nameof(JobSpec.FirstInput)] = "--first",
        [nameof(JobSpec.Inputs)] = "--inputs",
        [nameof(JobSpec.Shards)] = "--shards",
        [nameof(JobSpec.Grouping)] = "--grouping",
        [nameof(JobSpec.BatchSize)] = "--batch-size",
        [nameof(JobSpec.Seed)] = "--seed",
        [nameof(JobSpec.Precision)] = "--precision",
        [nameof(JobSpec.MaxConcurrentTasks)] = "--max-tasks",
        [nameof(JobSpec.TargetRelativeError)] = "--target-rel-error",
        [nameof(JobSpec.Delta)] = "--delta",
    };

    /// <summary>The spec of a job on these files (made absolute) with the parsed options; text options that name nothing known throw naming their flag.</summary>
    public JobSpec ToSpec(ParseResult result, string model, string? architecture, string data, string? labels)
    {
        ArgumentNullException.ThrowIfNull(result);
        return new JobSpec
        {
            ModelPath = Path.GetFullPath(model),
            ArchitecturePath = architecture is null ? "" : Path.GetFullPath(architecture),
            InputsPath = Path.GetFullPath(data),
            LabelsPath = labels is null ? null : Path.GetFullPath(labels),
            Likelihood = result.GetValue(Likelihood) is { } likelihood ? Parse(Likelihood, likelihood, SpecNames.Likelihoods.Parse) : null,
            Variance = result.GetValue(Variance),
            Quantities = result.GetValue(Estimators) is { } estimators ? Parse(Estimators, estimators, FisherQuantityNames.Parse)
                : labels is null ? JobSpec.DefaultQuantities : JobSpec.DefaultQuantities | FisherQuantity.Empirical,
            DrawsPerInput = result.GetValue(Draws),
            FirstInput = result.GetValue(First),
            Inputs = result.GetValue(Inputs),
            Shards = result.GetValue(Shards),
            Grouping = Parse(Grouping, result.GetValue(Grouping)!, SpecNames.Groupings.Parse),
            BatchSize = result.GetValue(Batch),
            Seed = result.GetValue(Seed),
            Precision = Parse(Precision, result.GetValue(Precision)!, SpecNames.DTypes.Parse),
        };
    }

    /// <summary>Throws naming the flags when <paramref name="spec"/> has problems (all of them, one line).</summary>
    public static void Validate(JobSpec spec)
    {
        var problems = JobSpecValidator.Problems(spec);
        if (problems.Count > 0)
            throw new ArgumentException(string.Join("; ", problems.Select(p => $"{Flags.GetValueOrDefault(p.Field, p.FieldWords)}: {p.Message}")));
    }

    private static T Parse<T>(Option option, string text, Func<string, T> parse)
    {
        try
        {
            return parse(text);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{option.Name}: {e.Message}", e);
        }
    }

    private static string Names(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count == 1 ? list[0] : $"{string.Join(", ", list.SkipLast(1))} or {list[^1]}";
    }
}
