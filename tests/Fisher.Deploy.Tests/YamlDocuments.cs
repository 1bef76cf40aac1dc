using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Fisher.Deploy.Tests;

/// <summary>
/// Multi-document YAML as JSON objects, with the scalar types Kubernetes gives them: a plain scalar is a number,
/// boolean or null when it reads as one (YAML 1.2 core schema), else a string; a quoted or block scalar is a string.
/// Used on kubectl kustomize output, which quotes every string that could read otherwise.
/// </summary>
public static partial class YamlDocuments
{
    /// <summary>The non-empty documents of <paramref name="yaml"/>; <paramref name="source"/> names it in errors.</summary>
    public static IReadOnlyList<JsonObject> Parse(string yaml, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{source}: not YAML at line {e.Start.Line}, column {e.Start.Column}", e);
        }
        var documents = new List<JsonObject>();
        foreach (var document in stream.Documents)
        {
            if (document.RootNode is YamlScalarNode { Value: null or "" })
                continue;
            documents.Add(ToJson(document.RootNode, source) as JsonObject
                ?? throw new InvalidDataException($"{source}: document {documents.Count + 1}: expected a mapping (an object)"));
        }
        return documents;
    }

    private static JsonNode? ToJson(YamlNode node, string source) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(
            c.Key is YamlScalarNode { Value: { } key } ? key : throw new InvalidDataException($"{source}: line {c.Key.Start.Line}: expected a scalar key"),
            ToJson(c.Value, source)))),
        YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(c => ToJson(c, source)).ToArray()),
        YamlScalarNode scalar => Scalar(scalar, source),
        _ => throw new InvalidDataException($"{source}: line {node.Start.Line}: unsupported YAML node (an alias?)"),
    };

    private static JsonNode? Scalar(YamlScalarNode scalar, string source)
    {
        var text = scalar.Value ?? "";
        var tag = scalar.Tag.IsEmpty ? "" : scalar.Tag.Value;
        if (tag == "tag:yaml.org,2002:str" || (tag.Length == 0 && scalar.Style != ScalarStyle.Plain))
            return JsonValue.Create(text);
        // kubectl reads YAML 1.1, where these are booleans and a leading 0 makes an octal number: refuse the ambiguity.
        if (text is "y" or "Y" or "yes" or "Yes" or "YES" or "n" or "N" or "no" or "No" or "NO" or "on" or "On" or "ON" or "off" or "Off" or "OFF"
            || (text.Length > 1 && text[0] == '0' && Integer().IsMatch(text)))
            throw new InvalidDataException($"{source}: line {scalar.Start.Line}: a plain scalar that YAML 1.1 (kubectl) and 1.2 read differently; quote it or write it otherwise");
        if (text is "" or "~" or "null" or "Null" or "NULL")
            return null;
        if (text is "true" or "True" or "TRUE")
            return JsonValue.Create(true);
        if (text is "false" or "False" or "FALSE")
            return JsonValue.Create(false);
        if (Integer().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
            return JsonNode.Parse(integer.ToString(CultureInfo.InvariantCulture));
        if (Float().IsMatch(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real))
            return JsonNode.Parse(real.ToString("R", CultureInfo.InvariantCulture));
        return JsonValue.Create(text);
    }

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex Integer();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Float();
}
