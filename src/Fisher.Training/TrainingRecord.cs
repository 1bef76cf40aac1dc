using System.Text.Json;
using System.Text.Json.Serialization;
using Fisher.Data;

namespace Fisher.Training;

/// <summary>
/// <c>training.json</c>: what was trained on what, how, and the metrics per epoch. <see cref="Write"/> and
/// <see cref="Read"/> use one source-generated contract, so files written by any version with these field names load.
/// </summary>
public sealed record TrainingRecord
{
    /// <summary>The file name next to the checkpoints.</summary>
    public const string FileName = "training.json";

    [JsonConverter(typeof(ArchitectureJsonConverter))]
    public required ModelArchitecture Architecture { get; init; }
    public required string Data { get; init; }
    public required string Labels { get; init; }
    public string? TestData { get; init; }
    public string? TestLabels { get; init; }
    public long TrainRows { get; init; }
    public long? TestRows { get; init; }
    public string Optimizer { get; init; } = "Adam";
    public double LearningRate { get; init; }
    public int BatchSize { get; init; }
    public int Epochs { get; init; }
    public ulong Seed { get; init; }

    /// <summary>What the losses mean.</summary>
    public string Loss { get; init; } = "";

    /// <summary>Wall time of the whole run, rounded to milliseconds.</summary>
    public double Seconds { get; init; }

    public IReadOnlyList<EpochMetrics> PerEpoch { get; init; } = [];

    /// <summary>Reads a training.json; a malformed file throws <see cref="JsonException"/>.</summary>
    public static TrainingRecord Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = File.OpenRead(path);
        return JsonSerializer.Deserialize(stream, TrainingJsonContext.Default.TrainingRecord)
            ?? throw new JsonException($"{path}: null instead of a training record");
    }

    /// <summary>Writes this record as indented JSON with a final newline (in one step: <see cref="AtomicFile"/>).</summary>
    public void Write(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        AtomicFile.WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(this, TrainingJsonContext.Default.TrainingRecord) + "\n"));
    }
}
