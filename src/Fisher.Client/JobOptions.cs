using System.CommandLine;
using Fisher.Contracts;

namespace Fisher.Client;

/// <summary>
/// The options that say what a job computes, shared by estimate, submit and sweep (one definition, so their names,
/// defaults and help agree), and the <see cref="JobSpec"/> they make once the files are resolved.
/// </summary>
internal sealed class JobOptions
{
    public Option<string?> Likelihood { get; } = new("--likelihood") { Description = "Override the architecture's likelihood: gaussian, categorical, bernoulli or poisson." };
    public Option<double?> Variance { get; } = new("--variance") { Description = "Override the Gaussian likelihood's fixed variance σ²." };
    public Option<string?> Estimators { get; } = new("--estimators") { Description = "Comma-separated: i1, i2, exact, empirical, v1, v2 or all. Also i1_input_mean, i2_input_mean, i2_negative, v1_upper, v1_lower, v2_upper, v2_lower, bounds, everything. Default: " + DefaultQuantities + ", plus empirical when labels are given." };
    public Option<int> Draws { get; } = new("--draws") { Description = "Label draws per input for Î1 and Î2.", DefaultValueFactory = _ => 1 };
    public Option<long> First { get; } = new("--first") { Description = "First input row.", DefaultValueFactory = _ => 0 };
    public Option<long> Inputs { get; } = new("--inputs") { Description = "Number of inputs (0: all rows from --first on).", DefaultValueFactory = _ => 0 };
    public Option<int> Shards { get; } = new("--shards") { Description = "Data shards (contiguous row ranges; tasks = shards x groups).", DefaultValueFactory = _ => Math.Max(2, Environment.ProcessorCount) };
    public Option<string> Grouping { get; } = new("--grouping") { Description = "Parameter groups: layer, tensor or all.", DefaultValueFactory = _ => "layer" };
    public Option<int> Batch { get; } = new("--batch-size") { Description = "Inputs per batch inside a worker.", DefaultValueFactory = _ => 256 };
    public Option<ulong> Seed { get; } = new("--seed") { Description = "Seed of the label draws (the result depends only on it, not on shards, groups or silos; a sweep uses it for every checkpoint).", DefaultValueFactory = _ => 0 };
    public Option<string> Precision { get; } = new("--precision") { Description = "Network compute dtype: float32 (each batch's Gram products in float32, summed across batches in float64) or float64 (everything in float64). Moments are always float64.", DefaultValueFactory = _ => "float32" };

    /// <summary>What a job computes unless --estimators says otherwise (empirical is added when labels are given).</summary>
    public const string DefaultQuantities = "i1,i2,exact,v1,v2,bounds,i2_negative";

    /// <summary>Every option, to add to a command.</summary>
    public IEnumerable<Option> All => [Likelihood, Variance, Estimators, Draws, First, Inputs, Shards, Grouping, Batch, Seed, Precision];

    /// <summary>The spec of a job on these files (made absolute) with the parsed options.</summary>
    public JobSpec ToSpec(ParseResult result, string model, string architecture, string data, string? labels) => new()
    {
        ModelPath = Path.GetFullPath(model),
        ArchitecturePath = Path.GetFullPath(architecture),
        InputsPath = Path.GetFullPath(data),
        LabelsPath = labels is null ? null : Path.GetFullPath(labels),
        Likelihood = result.GetValue(Likelihood),
        Variance = result.GetValue(Variance),
        Quantities = result.GetValue(Estimators) ?? (labels is null ? DefaultQuantities : DefaultQuantities + ",empirical"),
        DrawsPerInput = result.GetValue(Draws),
        FirstInput = result.GetValue(First),
        Inputs = result.GetValue(Inputs),
        Shards = result.GetValue(Shards),
        Grouping = result.GetValue(Grouping)!,
        BatchSize = result.GetValue(Batch),
        Seed = result.GetValue(Seed),
        Precision = result.GetValue(Precision)!,
    };
}
