using System.Globalization;
using System.Text.Json;

namespace Fisher.Data.Reports;

/// <summary>One quantity of one group as summary.json states it (any field may be absent).</summary>
public sealed record SummaryQuantity(long? Count, double? MeanEstimate, double? RelativeStandardError, double? InputsNeeded = null);

/// <summary>One parameter group of summary.json: its name, parameter tensor names and quantities.</summary>
public sealed record SummaryGroup(string Name, IReadOnlyList<string> Parameters, long? Size, IReadOnlyDictionary<string, SummaryQuantity> Quantities);

/// <summary>
/// A result folder as written by <c>fisher estimate</c>: <c>summary.json</c> (job id, spec, inputs, groups) and
/// <c>fisher.safetensors</c> (<c>&lt;parameter&gt;.&lt;quantity&gt;</c> tensors). Unknown fields are ignored and
/// optional ones may be missing; a missing or unreadable file throws naming it.
/// </summary>
public sealed class ResultData
{
    /// <summary>The summary file name inside a result folder.</summary>
    public const string SummaryFile = "summary.json";

    /// <summary>The tensor file name inside a result folder.</summary>
    public const string TensorFile = "fisher.safetensors";

    private ResultData(string folder, string jobId, IReadOnlyList<KeyValuePair<string, string>> spec, long? inputs, int draws,
        double? delta, double? targetRelativeError, IReadOnlyList<SummaryGroup> groups, IReadOnlyDictionary<string, NamedArray> tensors)
    {
        Folder = folder;
        JobId = jobId;
        Spec = spec;
        Inputs = inputs;
        Draws = draws;
        Delta = delta;
        TargetRelativeError = targetRelativeError;
        Groups = groups;
        Tensors = tensors;
    }

    public string Folder { get; }

    public string JobId { get; }

    /// <summary>The spec's scalar fields, formatted (paths as given), in file order; nulls left out.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Spec { get; }

    /// <summary>Number of inputs N (summary.json <c>inputs</c>), when stated.</summary>
    public long? Inputs { get; }

    /// <summary>Label draws per input K (1 when not stated).</summary>
    public int Draws { get; }

    public double? Delta { get; }

    public double? TargetRelativeError { get; }

    public IReadOnlyList<SummaryGroup> Groups { get; }

    /// <summary>All tensors of fisher.safetensors by name.</summary>
    public IReadOnlyDictionary<string, NamedArray> Tensors { get; }

    /// <summary>The tensor <c>&lt;parameter&gt;.&lt;quantity&gt;</c>, or null.</summary>
    public NamedArray? Tensor(string parameter, string quantity) =>
        Tensors.TryGetValue(parameter + "." + quantity, out var t) ? t : null;

    /// <summary>
    /// Reads <paramref name="folder"/>. Throws <see cref="FileNotFoundException"/> (message: the file, then "no such
    /// file") when summary.json or fisher.safetensors is missing, and <see cref="DataFormatException"/> naming the
    /// file when one cannot be read.
    /// </summary>
    public static ResultData Load(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var summaryPath = Path.Combine(folder, SummaryFile);
        var tensorPath = Path.Combine(folder, TensorFile);
        foreach (var path in new[] { summaryPath, tensorPath })
        {
            if (!File.Exists(path))
                throw new FileNotFoundException($"{path}: no such file (a result folder holds {SummaryFile} and {TensorFile})", path);
        }

        var tensors = Safetensors.Read(tensorPath).Tensors;

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(summaryPath));
        }
        catch (JsonException e)
        {
            throw new DataFormatException(summaryPath, $"not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new DataFormatException(summaryPath, $"expected a JSON object, got {root.ValueKind}");
            var jobId = String(root, "jobId") ?? Path.GetFileName(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar));

            var spec = new List<KeyValuePair<string, string>>();
            double? delta = null, target = null;
            int? specDraws = null;
            if (root.TryGetProperty("spec", out var specElement) && specElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in specElement.EnumerateObject())
                {
                    var text = p.Value.ValueKind switch
                    {
                        JsonValueKind.String => p.Value.GetString(),
                        JsonValueKind.Number => p.Value.GetRawText(),
                        JsonValueKind.True => "true",
                        JsonValueKind.False => "false",
                        _ => null,
                    };
                    if (text is not null)
                        spec.Add(KeyValuePair.Create(p.Name, text));
                }
                delta = Number(specElement, "delta");
                target = Number(specElement, "targetRelativeError");
                specDraws = (int?)Number(specElement, "drawsPerInput");
            }
            long? inputs = (long?)Number(root, "inputs");
            int draws = Math.Max(1, (int?)Number(root, "drawsPerInput") ?? specDraws ?? 1);

            var groups = new List<SummaryGroup>();
            if (root.TryGetProperty("groups", out var groupsElement))
            {
                if (groupsElement.ValueKind != JsonValueKind.Array)
                    throw new DataFormatException(summaryPath, $"groups: expected an array, got {groupsElement.ValueKind}");
                int index = 0;
                foreach (var g in groupsElement.EnumerateArray())
                {
                    if (g.ValueKind != JsonValueKind.Object)
                        throw new DataFormatException(summaryPath, $"groups[{index}]: expected an object, got {g.ValueKind}");
                    var name = String(g, "name") ?? $"group {index}";
                    var parameters = new List<string>();
                    if (g.TryGetProperty("parameters", out var ps) && ps.ValueKind == JsonValueKind.Array)
                        parameters.AddRange(ps.EnumerateArray().Where(p => p.ValueKind == JsonValueKind.String).Select(p => p.GetString()!));
                    var quantities = new Dictionary<string, SummaryQuantity>(StringComparer.Ordinal);
                    if (g.TryGetProperty("quantities", out var qs) && qs.ValueKind == JsonValueKind.Object)
                    {
                        foreach (var q in qs.EnumerateObject().Where(q => q.Value.ValueKind == JsonValueKind.Object))
                            quantities[q.Name] = new SummaryQuantity((long?)Number(q.Value, "count"), Number(q.Value, "meanEstimate"), Number(q.Value, "relativeStandardError"), Number(q.Value, "inputsNeeded"));
                    }
                    groups.Add(new SummaryGroup(name, parameters, (long?)Number(g, "size"), quantities));
                    index++;
                }
            }
            if (groups.Count == 0 || groups.All(g => g.Parameters.Count == 0))
            {
                // No usable groups: one group of every parameter found in the tensor file.
                var parameters = tensors.Keys.Select(k => k[..Math.Max(0, k.LastIndexOf('.'))]).Where(p => p.Length > 0).Distinct().Order(StringComparer.Ordinal).ToArray();
                groups = [new SummaryGroup("all", parameters, null, new Dictionary<string, SummaryQuantity>())];
            }
            return new ResultData(folder, jobId, spec, inputs, draws, delta, target, groups, tensors);
        }
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static double? Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble()
        : element.TryGetProperty(name, out value) && value.ValueKind == JsonValueKind.String
          && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
}
