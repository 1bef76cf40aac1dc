using System.Text.Json.Serialization;

namespace Fisher.Training;

/// <summary>The JSON contract of <c>training.json</c>: camelCase names, nulls written, indented.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(TrainingRecord))]
internal sealed partial class TrainingJsonContext : JsonSerializerContext;
