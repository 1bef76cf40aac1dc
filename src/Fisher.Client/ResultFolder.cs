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
internal sealed record GroupQuantity(string Quantity, long Count, double MeanEstimate, double RelativeStandardError);

/// <summary>One row of the per-group table.</summary>
internal sealed record GroupSummary(string Group, IReadOnlyList<string> Parameters, long Size, IReadOnlyList<GroupQuantity> Quantities);

/// <summary>
/// Writes a finished job's results: <c>fisher.safetensors</c> (one float32 tensor per parameter and quantity,
/// named <c>&lt;parameter&gt;.&lt;quantity&gt;</c>, plus <c>_var</c>, the variance of the estimate) and
/// <c>summary.json</c> (spec, counts, versions and the per-group table).
/// </summary>
internal static class ResultFolder
{
    /// <summary>Quantities that are estimates of the Fisher diagonal (and get a variance tensor).</summary>
    private static readonly string[] Estimates = ["i1", "i2", "exact", "empirical"];

    public static IReadOnlyList<GroupSummary> Summarize(IReadOnlyList<GroupMoments> groups)
    {
        var result = new List<GroupSummary>();
        foreach (var group in groups)
        {
            var parameters = group.Streams.Keys.Select(k => Split(k).Parameter).Distinct().ToArray();
            var quantities = new List<GroupQuantity>();
            foreach (var quantity in FisherQuantityNames.Singles.Select(q => q.Key()))
            {
                var streams = group.Streams.Where(s => Split(s.Key).Quantity == quantity).Select(s => s.Value).ToArray();
                if (streams.Length == 0)
                    continue;
                long size = streams.Sum(s => (long)s.Length);
                double sum = 0, squares = 0, variance = 0;
                foreach (var s in streams)
                {
                    var v = s.VarianceOfMean();
                    for (int i = 0; i < s.Length; i++)
                    {
                        sum += s.Mean[i];
                        squares += s.Mean[i] * s.Mean[i];
                        variance += double.IsNaN(v[i]) ? 0 : v[i];
                    }
                }
                // Relative standard error of the group's diagonal as a vector: ||s.e.||_2 / ||estimate||_2.
                double rse = squares > 0 && Estimates.Contains(quantity) ? Math.Sqrt(variance / squares) : double.NaN;
                quantities.Add(new GroupQuantity(quantity, streams[0].Count, sum / size, rse));
            }
            long parameterCount = parameters.Sum(p => (long)group.Streams.First(s => Split(s.Key).Parameter == p).Value.Length);
            result.Add(new GroupSummary(group.Group, parameters, parameterCount, quantities));
        }
        return result;
    }

    public static void Write(string folder, JobStatus status, ModelArchitecture architecture, IReadOnlyList<GroupMoments> groups, IReadOnlyList<GroupSummary> summary)
    {
        Directory.CreateDirectory(folder);
        var shapes = architecture.ExpectedParameters().ToDictionary(p => p.Name, p => p.Shape);
        var tensors = new List<NamedArray>();
        foreach (var group in groups)
        {
            foreach (var (key, moments) in group.Streams)
            {
                var (parameter, quantity) = Split(key);
                var shape = shapes.TryGetValue(parameter, out var s) ? s : [moments.Length];
                tensors.Add(new NamedArray(key, shape, moments.Mean));
                if (Estimates.Contains(quantity))
                    tensors.Add(new NamedArray(key + "_var", shape, moments.VarianceOfMean()));
            }
        }
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
            ["inputs"] = status.Inputs,
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
                }))),
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
