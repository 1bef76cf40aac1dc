using System.Text.Json;
using System.Text.Json.Serialization;
using Fisher.Data;

namespace Fisher.Training;

/// <summary>A <see cref="ModelArchitecture"/> as the architecture file's own JSON (<see cref="ModelArchitecture.ToJson"/> / <see cref="ModelArchitecture.Parse"/>).</summary>
internal sealed class ArchitectureJsonConverter : JsonConverter<ModelArchitecture>
{
    public override ModelArchitecture Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        try
        {
            return ModelArchitecture.Parse(document.RootElement.GetRawText(), "training.json architecture");
        }
        catch (DataFormatException e)
        {
            throw new JsonException(e.Message, e);
        }
    }

    public override void Write(Utf8JsonWriter writer, ModelArchitecture value, JsonSerializerOptions options)
    {
        using var document = JsonDocument.Parse(value.ToJson());
        document.WriteTo(writer);
    }
}
