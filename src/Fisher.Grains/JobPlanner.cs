using System.Globalization;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;
using Fisher.Estimators.Graph;
using Fisher.Results;
using static TorchSharp.torch;

namespace Fisher.Grains;

/// <summary>
/// Reads the files a spec names and plans its tasks. Everything a user can get wrong is checked here, before any
/// work is dispatched, and reported as a <see cref="JobSpecException"/> naming the file, option or layer.
/// </summary>
internal static class JobPlanner
{
    /// <summary>The quantities a spec streams and its torch dtype (shared by the planner, the workers and the direct loop).</summary>
    public static (FisherQuantity Quantities, ScalarType DType) Resolve(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var quantities = spec.Quantities;
        // With several draws per input, the per-input means of the draws give the correct variance of Î1/Î2 (the
        // draws of one input are correlated through x) and its split into input and label parts (§3.2).
        if (spec.DrawsPerInput >= 2)
        {
            foreach (var estimate in QuantityCatalog.EstimatesIn(quantities).Where(q => q.InputMeanStream != FisherQuantity.None))
                quantities |= estimate.InputMeanStream;
        }
        // The power sums of every estimate's per-input values give the shape of its interval for the input distribution (§3.5).
        foreach (var estimate in QuantityCatalog.EstimatesIn(quantities))
            quantities |= estimate.ShapeStreams;
        return (quantities, spec.Precision.ToScalarType());
    }

    /// <summary>The likelihood of a job over a feed-forward architecture's last width.</summary>
    public static Likelihood CreateLikelihood(JobSpec spec, ModelArchitecture architecture) =>
        CreateLikelihood(spec, architecture, architecture?.Widths[^1] ?? throw new ArgumentNullException(nameof(architecture)));

    /// <summary>The likelihood of a job over the network's <paramref name="outputs"/>: the spec's override, else the architecture file's.</summary>
    public static Likelihood CreateLikelihood(JobSpec spec, ModelArchitecture architecture, int outputs)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(architecture);
        try
        {
            return spec.Likelihood is { } family
                ? Likelihood.Create(family, outputs, spec.Variance ?? architecture.Variance)
                : Likelihood.Create(architecture.Likelihood, outputs, spec.Variance ?? architecture.Variance);
        }
        catch (ArgumentException e)
        {
            throw new JobSpecException($"likelihood: {e.Message}");
        }
    }

    /// <summary>The estimates a target relative error applies to: the requested estimates of the catalog.</summary>
    public static IReadOnlyList<string> TargetQuantities(FisherQuantity quantities) =>
        QuantityCatalog.EstimatesIn(quantities).Select(q => q.Key).ToArray();

    /// <summary>
    /// Reads and checks every file of the spec (each a regular file under <paramref name="roots"/>), refuses a job whose
    /// estimated memory is over <paramref name="memoryBudget"/> bytes per task or aggregator (an MLP's before the weights
    /// or rows are read) or, for a layer graph, whose estimated multiply-adds per input are over
    /// <paramref name="costBudget"/>, and plans shards x groups.
    /// </summary>
    public static JobPlan Plan(JobSpec spec, DataRoots roots, long memoryBudget, double costBudget = FisherOptions.DefaultCostBudget)
    {
        ArgumentNullException.ThrowIfNull(spec);
        JobSpecValidator.ThrowIfInvalid(spec);
        var files = SpecFiles.Resolve(spec, roots);
        var (quantities, dtype) = Resolve(spec);
        var architecture = Wrap(() => ModelSource.ReadArchitecture(files.Model, files.Architecture, spec.Likelihood));
        if (architecture.IsFeedForward)
        {
            // A feed-forward network's memory is known from its widths: refuse before the weights are read.
            _ = CreateLikelihood(spec, architecture);
            ThrowIfOverBudget(MemoryEstimate.Of(spec, architecture), memoryBudget);
        }
        using (var network = Wrap(() => LoadedNetwork.Load(architecture, files.Model, dtype)))
        {
            if (!architecture.IsFeedForward)
            {
                _ = CreateLikelihood(spec, architecture, network.OutputWidth);
                var cost = network.Graph is { } graph ? Wrap(() => graph.EstimateCost(EstimatorOptionsOf(spec, parameters: null))) : null;
                if (cost is not null)
                    ThrowIfOverCostBudget(cost, costBudget);
                ThrowIfOverBudget(MemoryEstimate.Of(spec, network, cost), memoryBudget);
            }
            long rows = CheckInputs(spec, files, network);
            if (spec.FirstInput >= rows)
                throw new JobSpecException(new SpecProblem(nameof(JobSpec.FirstInput), $"{spec.FirstInput} is past the end of {spec.InputsPath} ({rows} rows)"));
            var inputs = spec.Inputs == 0 ? rows - spec.FirstInput : spec.Inputs;
            if (inputs > rows - spec.FirstInput)
                throw new JobSpecException(new SpecProblem(nameof(JobSpec.Inputs), $"{spec.FirstInput} + {inputs} rows requested, but {spec.InputsPath} has {rows}"));
            if (JobSpecValidator.ShardsProblem(spec.Shards, inputs) is { } shards)
                throw new JobSpecException(shards);

            var groups = network.Groups(spec.Grouping);
            var tasks = new List<PlannedTask>();
            for (int s = 0; s < spec.Shards; s++)
            {
                long first = spec.FirstInput + (long)((Int128)inputs * s / spec.Shards); // no overflow whatever the row count
                long next = spec.FirstInput + (long)((Int128)inputs * (s + 1) / spec.Shards);
                for (int g = 0; g < groups.Count; g++)
                {
                    var id = string.Create(CultureInfo.InvariantCulture, $"s{s}g{g}");
                    tasks.Add(new PlannedTask(id, s, first, next - first, g, groups[g].Name, groups[g].Parameters.Select(p => p.Name).ToArray()));
                }
            }
            return new JobPlan(spec.FirstInput, inputs, groups, tasks, quantities);
        }
    }

    /// <summary>The estimator options of a spec's tasks (<paramref name="parameters"/>: a task's group; null: all).</summary>
    public static EstimatorOptions EstimatorOptionsOf(JobSpec spec, IReadOnlyList<string>? parameters, bool doublePrecisionMoments = false) => new()
    {
        Quantities = Resolve(spec).Quantities,
        DrawsPerInput = spec.DrawsPerInput,
        Seed = spec.Seed,
        Parameters = parameters?.ToArray(),
        DoublePrecisionMoments = doublePrecisionMoments,
    };

    /// <summary>Refuses a layer-graph job whose estimated multiply-adds per input are over the budget, naming the layer that drives them.</summary>
    internal static void ThrowIfOverCostBudget(EstimatorCost cost, double costBudget)
    {
        if (cost.MultiplyAddsPerInput > costBudget)
            throw new JobSpecException(string.Create(CultureInfo.InvariantCulture,
                $"cost: the job needs an estimated {cost.MultiplyAddsPerInput:0.###e0} multiply-adds per input ({cost.SecondOrderPerInput:0.###e0} for exact per-sample Hessian diagonals), over the cost budget of {costBudget:0.###e0} ({FisherOptions.SectionName}:{nameof(FisherOptions.CostBudget)}); driving layer: '{cost.DrivingLayer}'"));
    }

    /// <summary>Opens the inputs (and labels) and checks their samples fit the network; returns the row count.</summary>
    private static long CheckInputs(JobSpec spec, SpecFiles files, LoadedNetwork network)
    {
        using var data = Wrap(() => Dataset.Open(files.Inputs, files.Labels));
        if (data.Features != network.InputSize)
            throw new JobSpecException($"{spec.InputsPath}: rows have {data.Features} values, but the model's first layer expects {network.InputSize} inputs");
        Wrap(() =>
        {
            data.CheckSampleShape(network.InputShape);
            return 0;
        });
        return data.Rows;
    }

    /// <summary>Refuses a job whose task or aggregator estimate is over the budget, naming the largest contributor.</summary>
    internal static void ThrowIfOverBudget(MemoryEstimate estimate, long memoryBudget)
    {
        foreach (var (part, where) in new[] { (estimate.Task, "per task"), (estimate.Aggregator, "per aggregator") })
        {
            if (part.Bytes > memoryBudget)
                throw new JobSpecException($"memory: the job needs an estimated {MemoryEstimate.Format(part.Bytes)} {where}, over the memory budget of " +
                    $"{MemoryEstimate.Format(memoryBudget)} ({FisherOptions.SectionName}:{nameof(FisherOptions.MemoryBudget)}); largest: {part.Largest}, {MemoryEstimate.Format(part.LargestBytes)}");
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
