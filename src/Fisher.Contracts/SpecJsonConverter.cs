using System.Text.Json;
using System.Text.Json.Serialization;
using Fisher.Estimators;

namespace Fisher.Contracts;

/// <summary>
/// The spec's enums in JSON by name: quantities as comma-separated stream keys (<see cref="FisherQuantityNames"/>;
/// <c>"all"</c> is read too), grouping, precision and likelihood family as their canonical names (any accepted alias
/// is read). summary.json and sweep.json thus keep the text they had when these fields were strings.
/// </summary>
public sealed class SpecJsonConverter : JsonConverterFactory
{
    private static readonly Dictionary<Type, JsonConverter> Converters = new()
    {
        [typeof(FisherQuantity)] = new Named<FisherQuantity>("quantities", FisherQuantityNames.Parse, FisherQuantityNames.ToKeyList),
        [typeof(Grouping)] = Of(SpecNames.Groupings),
        [typeof(ComputeDType)] = Of(SpecNames.DTypes),
        [typeof(LikelihoodFamily)] = Of(SpecNames.Likelihoods),
        [typeof(LikelihoodFamily?)] = new Optional<LikelihoodFamily>(Of(SpecNames.Likelihoods)),
    };

    public override bool CanConvert(Type typeToConvert) => Converters.ContainsKey(typeToConvert);

    public override JsonConverter? CreateConverter(Type typeToConvert, JsonSerializerOptions options) => Converters[typeToConvert];

    private static Named<T> Of<T>(ValueNames<T> names) where T : struct, Enum => new(names.What, names.Parse, names.Key);

    private sealed class Named<T>(string what, Func<string, T> parse, Func<T, string> format) : JsonConverter<T>
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException($"expected the {what} as a string");
            try
            {
                return parse(text);
            }
            catch (ArgumentException e)
            {
                throw new JsonException(e.Message, e);
            }
        }

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(format(value));
    }

    private sealed class Optional<T>(JsonConverter<T> inner) : JsonConverter<T?> where T : struct
    {
        public override bool HandleNull => true;

        public override T? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? null : inner.Read(ref reader, typeof(T), options);

        public override void Write(Utf8JsonWriter writer, T? value, JsonSerializerOptions options)
        {
            if (value is { } v)
                inner.Write(writer, v, options);
            else
                writer.WriteNullValue();
        }
    }
}
