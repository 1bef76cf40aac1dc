using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;
using Fisher.Grains;

namespace Fisher.Client;

/// <summary>Summary of one quantity over one parameter group.</summary>
internal sealed record GroupQuantity(string Quantity, long Count, double MeanEstimate, double RelativeStandardError, double InputsNeeded);

/// <summary>
/// Which estimator a group should use: the one with the lower label variance E_x V (from the closed-form V1, V2 when
/// computed, else from the empirical variances of Î1 and Î2), and the inputs each needs for relative error ε with
/// probability 1 − δ (Chebyshev, §7.1).
/// </summary>
internal sealed record GroupDecision(string? Better, string Basis, double LabelVarianceI1, double LabelVarianceI2, double Epsilon, double Delta);

/// <summary>One row of the per-group table.</summary>
internal sealed record GroupSummary(string Group, IReadOnlyList<string> Parameters, long Size, IReadOnlyList<GroupQuantity> Quantities, GroupDecision Decision);

/// <summary>
/// Writes a finished job's results: <c>fisher.safetensors</c> (one float32 tensor per parameter and quantity,
/// named <c>&lt;parameter&gt;.&lt;quantity&gt;</c>, plus <c>_var</c>, the variance of the estimate, and the
/// diagnostics of architecture.md) and <c>summary.json</c> (spec, counts, versions, the per-group table and decisions).
/// </summary>
internal static class ResultFolder
{
    /// <summary>Quantities that are estimates of the Fisher diagonal (and get a variance tensor).</summary>
    private static readonly string[] Estimates = ["i1", "i2", "exact", "empirical"];

    /// <summary>Streams that only serve other results (the variance split) and are not written themselves.</summary>
    private static readonly string[] Internal = ["i1_input_mean", "i2_input_mean"];

    /// <summary>ε of the sample sizes when the job has no target relative error.</summary>
    public const double DefaultEpsilon = 0.1;

    /// <summary>The per-input moments behind an estimate's variance: the per-input means of the draws when streamed.</summary>
    private static Moments PerInput(GroupMoments group, string parameter, string quantity) =>
        group.Streams.TryGetValue($"{parameter}.{quantity}_input_mean", out var means) ? means : group.Streams[$"{parameter}.{quantity}"];

    private static IEnumerable<string> Parameters(GroupMoments group) => group.Streams.Keys.Select(k => Split(k).Parameter).Distinct();

    public static IReadOnlyList<GroupSummary> Summarize(IReadOnlyList<GroupMoments> groups, JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        double epsilon = spec.TargetRelativeError ?? DefaultEpsilon;
        var result = new List<GroupSummary>();
        foreach (var group in groups)
        {
            var parameters = Parameters(group).ToArray();
            var present = group.Streams.Keys.Select(k => Split(k).Quantity).ToHashSet();
            var quantities = new List<GroupQuantity>();
            foreach (var quantity in FisherQuantityNames.Singles.Select(q => q.Key()).Where(present.Contains).Except(Internal))
            {
                var streams = parameters.Select(p => group.Streams[$"{p}.{quantity}"]).ToArray();
                double mean = streams.Sum(m => m.Mean.Sum()) / streams.Sum(m => (double)m.Length);
                double rse = double.NaN, needed = double.NaN;
                if (Estimates.Contains(quantity))
                {
                    var precision = Precision.Of(parameters.Select(p => PerInput(group, p, quantity)));
                    rse = precision.RelativeStandardError;
                    needed = precision.InputsNeeded(epsilon, spec.Delta);
                }
                quantities.Add(new GroupQuantity(quantity, streams[0].Count, mean, rse, needed));
            }
            long size = parameters.Sum(p => (long)group.Streams.First(s => Split(s.Key).Parameter == p).Value.Length);
            result.Add(new GroupSummary(group.Group, parameters, size, quantities, Decide(group, parameters, present, epsilon, spec.Delta)));
        }
        return result;
    }

    private static GroupDecision Decide(GroupMoments group, string[] parameters, HashSet<string> present, double epsilon, double delta)
    {
        double MeanOver(string quantity, Func<Moments, int, double> value) =>
            parameters.Sum(p => { var m = group.Streams[$"{p}.{quantity}"]; return Enumerable.Range(0, m.Length).Sum(i => value(m, i)); })
            / parameters.Sum(p => (double)group.Streams[$"{p}.{quantity}"].Length);
        if (present.Contains("v1") && present.Contains("v2"))
        {
            // E_x V(θ|x) per parameter, averaged over the group: the input part Var_x I is the same for both (§3.2).
            double v1 = MeanOver("v1", (m, i) => m.Mean[i]), v2 = MeanOver("v2", (m, i) => m.Mean[i]);
            return new GroupDecision(v1 == v2 ? null : v2 < v1 ? "i2" : "i1", "closed-form E_x V1, E_x V2", v1, v2, epsilon, delta);
        }
        if (present.Contains("i1") && present.Contains("i2"))
        {
            double v1 = MeanOver("i1", (m, i) => m.Count > 1 ? m.M2[i] / (m.Count - 1) : double.NaN);
            double v2 = MeanOver("i2", (m, i) => m.Count > 1 ? m.M2[i] / (m.Count - 1) : double.NaN);
            return new GroupDecision(v1 == v2 ? null : v2 < v1 ? "i2" : "i1", "empirical variances of the Î1 and Î2 terms", v1, v2, epsilon, delta);
        }
        return new GroupDecision(null, "needs i1 and i2 (or v1 and v2)", double.NaN, double.NaN, epsilon, delta);
    }

    /// <summary>The tensors of <c>fisher.safetensors</c> (architecture.md, "What a result contains").</summary>
    public static IReadOnlyList<NamedArray> Tensors(IReadOnlyList<GroupMoments> groups, IReadOnlyDictionary<string, long[]> shapes)
    {
        var tensors = new List<NamedArray>();
        foreach (var group in groups)
        {
            foreach (var parameter in Parameters(group))
            {
                var shape = shapes.TryGetValue(parameter, out var s) ? s : [group.Streams.First(x => Split(x.Key).Parameter == parameter).Value.Length];
                Moments? Stream(string q) => group.Streams.TryGetValue($"{parameter}.{q}", out var m) ? m : null;
                void Add(string q, double[] values) => tensors.Add(new NamedArray($"{parameter}.{q}", shape, values));
                double[]? inputPart = null;
                foreach (var quantity in FisherQuantityNames.Singles.Select(q => q.Key()).Except(Internal))
                {
                    if (Stream(quantity) is not { } moments)
                        continue;
                    switch (quantity)
                    {
                        case "i1" or "i2" when Stream(quantity + "_input_mean") is { } means:
                            var split = VarianceSplit.Compute(moments, means, (int)(moments.Count / Math.Max(1, means.Count)));
                            Add(quantity, moments.Mean);
                            Add(quantity + "_var", split.VarianceOfEstimate);
                            Add(quantity + "_var_labels", split.LabelPart);
                            inputPart ??= split.InputPart;
                            break;
                        case "i1" or "i2" or "exact" or "empirical":
                            Add(quantity, moments.Mean);
                            Add(quantity + "_var", moments.VarianceOfMean());
                            break;
                        case "i2_negative":
                            Add("i2_negative_share", moments.Mean);
                            break;
                        default:
                            Add(quantity, moments.Mean);
                            break;
                    }
                }
                // Var_x I(θ|x): directly the sample variance of the exact per-input values when computed, else the
                // input part of the Î1/Î2 split (K ≥ 2).
                if (Stream("exact") is { } exact)
                    Add("var_inputs", exact.SampleVariance());
                else if (inputPart is not null)
                    Add("var_inputs", inputPart);
            }
        }
        return tensors;
    }

    public static void Write(string folder, JobStatus status, ModelArchitecture architecture, IReadOnlyList<GroupMoments> groups, IReadOnlyList<GroupSummary> summary)
    {
        Directory.CreateDirectory(folder);
        var shapes = architecture.ExpectedParameters().ToDictionary(p => p.Name, p => p.Shape);
        var tensors = Tensors(groups, shapes);
        var spec = JsonSerializer.Serialize(status.Spec, JsonOptions);
        Safetensors.Write(Path.Combine(folder, "fisher.safetensors"), tensors, new Dictionary<string, string>
        {
            ["job_id"] = status.JobId,
            ["spec"] = spec,
            ["format"] = "fisher.safetensors/1: <parameter>.<quantity> is the estimate (mean over inputs and label draws); <parameter>.<quantity>_var the variance of that estimate (sample variance / n)",
        });

        var root = new JsonObject
        {
            ["jobId"] = status.JobId,
            ["state"] = status.State.ToString(),
            ["spec"] = JsonNode.Parse(spec),
            ["architecture"] = JsonNode.Parse(architecture.ToJson()),
            ["inputs"] = status.InputsMerged,
            ["inputsPlanned"] = status.Inputs,
            ["drawsPerInput"] = status.Spec?.DrawsPerInput,
            ["seed"] = status.Spec?.Seed,
            ["startedAt"] = status.StartedAt,
            ["finishedAt"] = status.FinishedAt,
            ["seconds"] = status.FinishedAt is { } end ? Math.Round((end - status.StartedAt).TotalSeconds, 3) : null,
            ["tasks"] = status.TasksTotal,
            ["redispatches"] = status.Redispatches,
            ["versions"] = new JsonObject
            {
                ["fisher"] = Version(typeof(ResultFolder).Assembly),
                ["torchsharp"] = Version(typeof(TorchSharp.torch).Assembly),
                ["orleans"] = Version(typeof(IGrainFactory).Assembly),
                ["dotnet"] = Environment.Version.ToString(),
            },
            ["relativeStandardError"] = "per group: ||standard errors||_2 / ||estimates||_2 over the group's parameters",
            ["inputsNeeded"] = "per group and estimate: inputs for relative error epsilon with probability 1 - delta (Chebyshev on the group's diagonal as a vector, estimators.md 7.1)",
            ["decision"] = "per group: the estimator with the lower label variance E_x V (the input part Var_x I is common to both)",
            ["groups"] = new JsonArray(summary.Select(g => (JsonNode)new JsonObject
            {
                ["name"] = g.Group,
                ["parameters"] = new JsonArray(g.Parameters.Select(p => (JsonNode)JsonValue.Create(p)!).ToArray()),
                ["size"] = g.Size,
                ["quantities"] = new JsonObject(g.Quantities.Select(q => KeyValuePair.Create(q.Quantity, (JsonNode?)new JsonObject
                {
                    ["count"] = q.Count,
                    ["meanEstimate"] = Finite(q.MeanEstimate),
                    ["relativeStandardError"] = Finite(q.RelativeStandardError),
                    ["inputsNeeded"] = Finite(q.InputsNeeded),
                }))),
                ["decision"] = new JsonObject
                {
                    ["better"] = g.Decision.Better,
                    ["basis"] = g.Decision.Basis,
                    ["labelVarianceI1"] = Finite(g.Decision.LabelVarianceI1),
                    ["labelVarianceI2"] = Finite(g.Decision.LabelVarianceI2),
                    ["epsilon"] = g.Decision.Epsilon,
                    ["delta"] = g.Decision.Delta,
                },
            }).ToArray()),
        };
        var summaryPath = Path.Combine(folder, "summary.json");
        File.WriteAllText(summaryPath + ".tmp", root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.Move(summaryPath + ".tmp", summaryPath, overwrite: true);
    }

    private static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    private static string Version(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? assembly.GetName().Version?.ToString() ?? "unknown";

    public static (string Parameter, string Quantity) Split(string key)
    {
        int dot = key.LastIndexOf('.');
        return (key[..dot], key[(dot + 1)..]);
    }

    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = false, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static string Format(double value) =>
        double.IsNaN(value) ? "-" : value.ToString(Math.Abs(value) is >= 1e-2 and < 1e4 or 0 ? "0.####" : "0.00e+0", CultureInfo.InvariantCulture);
}
