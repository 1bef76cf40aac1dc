using System.Reflection;
using System.Text.Json;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;

namespace Fisher.Results;

/// <summary>
/// Turns a finished job's merged moments into its <see cref="JobResult"/>, once: per group the mean entry, relative
/// standard error and inputs needed of every quantity and the <see cref="DecisionRule"/>'s decision; per parameter the
/// tensors of fisher.safetensors (estimates with the variance of the estimate, the label/input split with K ≥ 2 draws,
/// the closed-form variances, bounds and shares). docs/estimators.md §3.2 and §7.1 give the formulas.
/// </summary>
public static class JobResultAssembler
{
    /// <summary>Assembles the result of <paramref name="status"/> from its groups' moments.</summary>
    /// <param name="architecture">The job's architecture (written into summary.json; a feed-forward one also gives the parameter shapes).</param>
    /// <param name="groups">The merged moments of every group.</param>
    /// <param name="shapes">The parameter shapes (a graph's come from its weights: <see cref="LoadedNetwork.ParameterShapes"/>); null: the architecture's.</param>
    public static JobResult Assemble(JobStatus status, ModelArchitecture architecture, IReadOnlyList<GroupMoments> groups, IReadOnlyDictionary<string, long[]>? shapes = null)
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(groups);
        var spec = status.Spec ?? throw new ArgumentException($"job '{status.JobId}' has no spec", nameof(status));
        shapes ??= architecture.IsGraph
            ? throw new ArgumentException("a graph architecture's parameter shapes come from its weights", nameof(shapes))
            : architecture.ExpectedParameters().ToDictionary(p => p.Name, p => p.Shape);
        var summary = new SummaryFile
        {
            JobId = status.JobId,
            State = status.State.ToString(),
            Spec = spec,
            Architecture = JsonDocument.Parse(architecture.ToJson()).RootElement.Clone(),
            Inputs = status.InputsMerged,
            InputsPlanned = status.Inputs,
            DrawsPerInput = spec.DrawsPerInput,
            Seed = spec.Seed,
            StartedAt = status.StartedAt,
            FinishedAt = status.FinishedAt,
            Seconds = status.FinishedAt is { } end ? Math.Round((end - status.StartedAt).TotalSeconds, 3) : null,
            Tasks = status.TasksTotal,
            Redispatches = status.Redispatches,
            Versions = new SummaryVersions
            {
                Fisher = Version(typeof(JobResultAssembler).Assembly),
                Torchsharp = Version(typeof(TorchSharp.torch).Assembly),
                Orleans = Version(typeof(IGrainFactory).Assembly),
                Dotnet = Environment.Version.ToString(),
            },
            Groups = groups.Select(g => Summarize(g, spec.SampleSizeEpsilon(), spec.Delta)).ToArray(),
        };
        return new JobResult(summary, groups.SelectMany(g => Tensors(g, shapes, 1 - spec.Delta)).ToArray());
    }

    /// <summary>One group's row of the summary.</summary>
    public static SummaryGroup Summarize(GroupMoments group, double epsilon, double delta)
    {
        ArgumentNullException.ThrowIfNull(group);
        var parameters = group.Parameters;
        var quantities = new Dictionary<string, SummaryQuantity>(StringComparer.Ordinal);
        foreach (var quantity in QuantityCatalog.Written.Where(q => group.Has(q.Stream)))
        {
            var streams = parameters.Select(p => group.Streams[quantity.StreamName(p)]).ToArray();
            double mean = streams.Sum(m => m.Mean.Sum()) / streams.Sum(m => (double)m.Length);
            double rse = double.NaN, rseGiven = double.NaN, needed = double.NaN;
            string? basis = null, givenBasis = null;
            if (quantity.IsEstimate)
            {
                var precision = quantity.PrecisionOf(parameters, group.Stream)!;
                rse = precision.RelativeStandardError;
                needed = precision.InputsNeeded(epsilon, delta);
                rseGiven = quantity.PrecisionOf(parameters, group.Stream, v => v.GivenInputs)?.RelativeStandardError ?? double.NaN;
                var variance = EstimateVariance.Of(quantity, parameters[0], group.Stream)!;
                (basis, givenBasis) = (variance.DistributionBasis, variance.GivenInputsBasis);
            }
            quantities[quantity.Key] = new SummaryQuantity
            {
                Count = streams[0].Count,
                MeanEstimate = Finite(mean),
                RelativeStandardError = Finite(rse),
                RelativeStandardErrorGivenInputs = Finite(rseGiven),
                InputsNeeded = Finite(needed),
                Variance = basis,
                VarianceGivenInputs = givenBasis,
            };
        }
        var decision = DecisionRule.Decide(group, epsilon, delta);
        return new SummaryGroup
        {
            Name = group.Group,
            Parameters = parameters,
            Size = parameters.Sum(p => (long)group.Streams.First(s => GroupMoments.SplitKey(s.Key).Parameter == p).Value.Length),
            Quantities = quantities,
            Decision = decision,
        };
    }

    /// <summary>
    /// The tensors of one group, per parameter in catalog order, rounded to float32 (the precision of the file, so
    /// that a report drawn from this result and one drawn from the file agree).
    /// </summary>
    private static IEnumerable<NamedArray> Tensors(GroupMoments group, IReadOnlyDictionary<string, long[]> shapes, double level)
    {
        foreach (var parameter in group.Parameters)
        {
            var shape = shapes.TryGetValue(parameter, out var s) ? s : [group.Streams.First(x => GroupMoments.SplitKey(x.Key).Parameter == parameter).Value.Length];
            NamedArray Tensor(string suffix, double[] values) => new($"{parameter}.{suffix}", shape, ToFloat32(values));
            foreach (var quantity in QuantityCatalog.Written)
            {
                if (group.Stream(quantity.StreamName(parameter)) is not { } moments)
                    continue;
                yield return Tensor(quantity.TensorKey, moments.Mean);
                if (!quantity.IsEstimate || EstimateVariance.Of(quantity, parameter, group.Stream) is not { } variance)
                    continue;
                // The variance for each target, the interval for the input distribution at level 1 − δ (§3.5) and, for Î1
                // and Î2, the label part the variance uses and the draws' check (§3.4).
                yield return Tensor(quantity.VarianceKey, variance.OfDistribution);
                var lower = new double[moments.Length];
                var upper = new double[moments.Length];
                for (int i = 0; i < lower.Length; i++)
                    (lower[i], upper[i]) = variance.IntervalOfDistribution(moments.Mean[i], i, level);
                yield return Tensor(quantity.LowerKey, lower);
                yield return Tensor(quantity.UpperKey, upper);
                if (quantity.ConditionalVarianceStream == FisherQuantity.None)
                    continue;
                if (variance.GivenInputs is { } given)
                    yield return Tensor(quantity.GivenInputsVarianceKey, given);
                if (variance.LabelPart is { } label)
                    yield return Tensor(quantity.LabelPartKey, label);
                if (variance.LabelPartFromDraws is { } draws)
                    yield return Tensor(quantity.LabelPartFromDrawsKey, draws);
            }
            // Var_x I(θ|x): the sample variance of the exact per-input values when computed (no label noise), else the
            // input part of the Î1/Î2 split (K ≥ 2).
            if (group.Stream(parameter, QuantityCatalog.Exact.Stream) is { } exact)
                yield return Tensor(QuantityCatalog.InputVarianceKey, exact.SampleVariance());
            else if (QuantityCatalog.Estimates.FirstOrDefault(q => q.InputMeanStream != FisherQuantity.None && group.Stream(parameter, q.Stream) is not null
                && group.Stream(parameter, q.InputMeanStream) is not null) is { } drawn)
                yield return Tensor(QuantityCatalog.InputVarianceKey, DecisionRule.Split(group, drawn, parameter).InputPart);
        }
    }

    private static double[] ToFloat32(double[] values)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
            result[i] = (float)values[i];
        return result;
    }

    private static double? Finite(double value) => double.IsFinite(value) ? value : null;

    private static string Version(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? assembly.GetName().Version?.ToString() ?? "unknown";
}
