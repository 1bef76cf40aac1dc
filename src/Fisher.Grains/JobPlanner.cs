using System.Globalization;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;
using Fisher.Results;
using TorchSharp;
using static TorchSharp.torch;

namespace Fisher.Grains;

/// <summary>A task of a plan: a row range and a parameter group.</summary>
public sealed record PlannedTask(string TaskId, int Shard, long FirstRow, long Rows, int GroupIndex, string GroupName, IReadOnlyList<string> Parameters);

/// <summary>What a spec resolves to after the files were read and checked.</summary>
public sealed record JobPlan(long FirstRow, long Inputs, IReadOnlyList<ParameterGroup> Groups, IReadOnlyList<PlannedTask> Tasks, FisherQuantity Quantities);

/// <summary>
/// Reads the files a spec names and plans its tasks. Everything a user can get wrong is checked here, before any
/// work is dispatched, and reported as a <see cref="JobSpecException"/> naming the file, option or layer.
/// </summary>
public static class JobPlanner
{
    /// <summary>Resolves quantities, likelihood and dtype of a spec (shared by the planner and the workers).</summary>
    public static (FisherQuantity Quantities, ScalarType DType) Resolve(JobSpec spec)
    {
        FisherQuantity quantities;
        try
        {
            quantities = FisherQuantityNames.Parse(spec.Quantities);
        }
        catch (ArgumentException e)
        {
            throw new JobSpecException($"--estimators: {e.Message}");
        }
        if (quantities == FisherQuantity.None)
            throw new JobSpecException("--estimators: name at least one of i1, i2, exact, empirical, v1, v2");
        // With several draws per input, the per-input means of the draws give the correct variance of Î1/Î2 (the
        // draws of one input are correlated through x) and its split into input and label parts (§3.2).
        if (spec.DrawsPerInput >= 2)
        {
            if (quantities.HasFlag(FisherQuantity.SquaredScore))
                quantities |= FisherQuantity.SquaredScoreInputMean;
            if (quantities.HasFlag(FisherQuantity.NegativeHessian))
                quantities |= FisherQuantity.NegativeHessianInputMean;
        }
        var dtype = spec.Precision.Trim().ToLowerInvariant() switch
        {
            "float32" or "f32" or "single" => ScalarType.Float32,
            "float64" or "f64" or "double" => ScalarType.Float64,
            _ => throw new JobSpecException($"--precision: expected float32 or float64, got '{spec.Precision}'"),
        };
        return (quantities, dtype);
    }

    /// <summary>The likelihood of a job: the spec's override, else the architecture file's.</summary>
    public static Likelihood CreateLikelihood(JobSpec spec, ModelArchitecture architecture)
    {
        var name = spec.Likelihood ?? architecture.Likelihood;
        var variance = spec.Variance ?? architecture.Variance;
        if (variance <= 0 || !double.IsFinite(variance))
            throw new JobSpecException($"--variance: must be a positive number, got {variance.ToString(CultureInfo.InvariantCulture)}");
        try
        {
            return Likelihood.Create(name, architecture.Widths[^1], variance);
        }
        catch (ArgumentException e)
        {
            throw new JobSpecException($"likelihood: {e.Message}");
        }
    }

    /// <summary>The estimates a target relative error applies to: the requested estimates of the catalog.</summary>
    public static IReadOnlyList<string> TargetQuantities(FisherQuantity quantities) =>
        QuantityCatalog.EstimatesIn(quantities).Select(q => q.Key).ToArray();

    /// <summary>Reads and checks every file of the spec and plans shards x groups.</summary>
    public static JobPlan Plan(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var (quantities, _) = Resolve(spec);
        if (spec.DrawsPerInput < 1)
            throw new JobSpecException($"--draws: must be at least 1, got {spec.DrawsPerInput}");
        if (spec.BatchSize < 1)
            throw new JobSpecException($"--batch-size: must be at least 1, got {spec.BatchSize}");
        if (spec.Shards < 1)
            throw new JobSpecException($"--shards: must be at least 1, got {spec.Shards}");
        if (spec.TargetRelativeError is { } target && !(target > 0 && double.IsFinite(target)))
            throw new JobSpecException($"--target-rel-error: must be a positive number, got {target.ToString(CultureInfo.InvariantCulture)}");
        if (!(spec.Delta is > 0 and < 1))
            throw new JobSpecException($"--delta: must be in (0, 1), got {spec.Delta.ToString(CultureInfo.InvariantCulture)}");
        if (spec.TargetRelativeError is not null && TargetQuantities(quantities).Count == 0)
            throw new JobSpecException($"--target-rel-error: needs at least one estimate among --estimators ({string.Join(", ", QuantityCatalog.Estimates.Select(q => q.Key))})");
        if (spec.FirstInput < 0 || spec.Inputs < 0)
            throw new JobSpecException("--first/--inputs: must not be negative");
        if (quantities.HasFlag(FisherQuantity.Empirical) && string.IsNullOrEmpty(spec.LabelsPath))
            throw new JobSpecException("--estimators: the empirical Fisher needs observed labels (--labels)");
        var grouping = spec.Grouping.Trim().ToLowerInvariant() switch
        {
            "layer" or "per-layer" => Grouping.PerLayer,
            "tensor" or "per-tensor" => Grouping.PerTensor,
            "all" => Grouping.All,
            _ => throw new JobSpecException($"--grouping: expected layer, tensor or all, got '{spec.Grouping}'"),
        };

        var architecture = Wrap(() => ModelArchitecture.Read(spec.ArchitecturePath));
        _ = CreateLikelihood(spec, architecture);
        using (var network = Wrap(() => ModelLoader.Load(architecture, spec.ModelPath, ScalarType.Float32)))
        {
            long rows, features;
            using (var data = Wrap(() => Dataset.Open(spec.InputsPath, spec.LabelsPath)))
            {
                rows = data.Rows;
                features = data.Features;
            }
            if (features != network.InputWidth)
                throw new JobSpecException($"{spec.InputsPath}: rows have {features} values, but the model's first layer expects {network.InputWidth} inputs");
            if (spec.FirstInput >= rows)
                throw new JobSpecException($"--first: {spec.FirstInput} is past the end of {spec.InputsPath} ({rows} rows)");
            var inputs = spec.Inputs == 0 ? rows - spec.FirstInput : spec.Inputs;
            if (spec.FirstInput + inputs > rows)
                throw new JobSpecException($"--inputs: {spec.FirstInput} + {inputs} rows requested, but {spec.InputsPath} has {rows}");
            if (spec.Shards > inputs)
                throw new JobSpecException($"--shards: {spec.Shards} shards for {inputs} inputs; use at most one shard per input");

            var groups = network.Layout.Groups(grouping);
            var tasks = new List<PlannedTask>();
            for (int s = 0; s < spec.Shards; s++)
            {
                long first = spec.FirstInput + inputs * s / spec.Shards;
                long next = spec.FirstInput + inputs * (s + 1) / spec.Shards;
                for (int g = 0; g < groups.Count; g++)
                {
                    var id = string.Create(CultureInfo.InvariantCulture, $"s{s}g{g}");
                    tasks.Add(new PlannedTask(id, s, first, next - first, g, groups[g].Name, groups[g].Parameters.Select(p => p.Name).ToArray()));
                }
            }
            return new JobPlan(spec.FirstInput, inputs, groups, tasks, quantities);
        }
    }

    private static T Wrap<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is DataFormatException or FileNotFoundException or DirectoryNotFoundException or IOException or UnauthorizedAccessException or InvalidNetworkException or UnsupportedLayerException)
        {
            throw new JobSpecException(e.Message, e);
        }
    }
}

/// <summary>A job spec that cannot run: the message names the file, option or layer and what was expected.</summary>
public sealed class JobSpecException : Exception
{
    public JobSpecException(string message) : base(message) { }

    public JobSpecException(string message, Exception inner) : base(message, inner) { }

    public JobSpecException() { }
}
