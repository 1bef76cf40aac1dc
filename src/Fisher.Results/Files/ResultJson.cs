using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Fisher.Contracts;
using Fisher.Data;

namespace Fisher.Results;

/// <summary>
/// Source-generated JSON of the result files (camelCase, indented, nulls written). Reading ignores unknown fields and
/// keeps defaults for missing ones (the file records have setters: the generator sets init-only properties that are
/// absent to null), but refuses null where a record does not allow it and a spec without a field it needs, with a
/// message that names the JSON path.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, RespectNullableAnnotations = true)]
[JsonSerializable(typeof(SummaryFile))]
[JsonSerializable(typeof(SweepFile))]
[JsonSerializable(typeof(JobSpec))]
internal sealed partial class ResultJsonContext : JsonSerializerContext;

/// <summary>Writes and reads the result files' JSON through their typed records.</summary>
public static class ResultJson
{
    private static readonly ResultJsonContext Compact = new(new JsonSerializerOptions(ResultJsonContext.Default.Options) { WriteIndented = false });


    /// <summary>A job spec on one line (fisher.safetensors metadata).</summary>
    public static string SpecLine(JobSpec spec) => JsonSerializer.Serialize(spec, Compact.JobSpec);

    /// <summary>Writes <paramref name="value"/> to <paramref name="path"/> through a temporary file and a rename.</summary>
    public static void Write(string path, SummaryFile value) => WriteAtomically(path, JsonSerializer.SerializeToUtf8Bytes(value, ResultJsonContext.Default.SummaryFile));

    /// <inheritdoc cref="Write(string, SummaryFile)"/>
    public static void Write(string path, SweepFile value) => WriteAtomically(path, JsonSerializer.SerializeToUtf8Bytes(value, ResultJsonContext.Default.SweepFile));

    /// <summary>Reads summary.json; throws <see cref="DataFormatException"/> naming the file when it is not one.</summary>
    public static SummaryFile ReadSummary(string path)
    {
        var summary = Read(path, ResultJsonContext.Default.SummaryFile);
        if (summary.Spec is { } spec)
        {
            try
            {
                _ = SpecLine(spec);
            }
            catch (JsonException e)
            {
                throw new DataFormatException(path, $"spec is incomplete: {e.Message}", e);
            }
        }
        return summary;
    }

    /// <summary>Reads sweep.json; throws <see cref="DataFormatException"/> naming the file when it is not one.</summary>
    public static SweepFile ReadSweep(string path) => Read(path, ResultJsonContext.Default.SweepFile);

    private static T Read<T>(string path, JsonTypeInfo<T> type)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize(stream, type) ?? throw new DataFormatException(path, "expected a JSON object, got null");
        }
        catch (JsonException e)
        {
            // The serializer's message names the JSON path and the expected type, never the file's content.
            throw new DataFormatException(path, $"not a valid {Path.GetFileName(path)}: {e.Message}", e);
        }
    }

    private static void WriteAtomically(string path, byte[] bytes) => AtomicFile.WriteAllBytes(path, [.. bytes, (byte)'\n']);
}
