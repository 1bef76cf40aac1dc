using System.Text.Json;
using Fisher.Estimators;
using Fisher.Estimators.Graph;
using static Fisher.Data.ModelArchitecture;

namespace Fisher.Data;

/// <summary>
/// The graph form of the architecture JSON, read and written here only: <c>inputShape</c> (the per-sample shape:
/// [features], [channels, length] or [channels, height, width]) and <c>layers</c>, each an object with <c>name</c> (the
/// module name: its tensors are <c>{name}.weight</c>, ...), <c>op</c>, <c>inputs</c> (layer names or "input"; default
/// the previous layer) and the attributes of its op (<see cref="Attributes"/>). Spatial attributes are one integer or
/// one per spatial dimension. Every error names the file and the field, e.g. <c>layers[3].stride</c>.
/// </summary>
internal static class ArchitectureGraphJson
{
    /// <summary>The top-level fields of the graph form.</summary>
    public static readonly string[] Fields = ["inputShape", "layers"];

    /// <summary>The largest kernel, stride, padding, dilation or pooled output size.</summary>
    private const int MaxSpatial = 1 << 16;

    private static readonly string[] Spatial = ["kernel", "stride", "padding", "dilation", "outputSize"];
    private static readonly string[] Conv = ["kernel", "stride", "padding", "dilation", "groups", "bias"];

    /// <summary>The attributes each op accepts besides name, op and inputs; anything else is an error.</summary>
    private static readonly Dictionary<LayerOp, string[]> Attributes = new()
    {
        [LayerOp.Linear] = ["bias"],
        [LayerOp.Conv1d] = Conv,
        [LayerOp.Conv2d] = Conv,
        [LayerOp.MaxPool2d] = ["kernel", "stride", "padding", "dilation"],
        [LayerOp.AvgPool2d] = ["kernel", "stride", "padding", "countIncludePad"],
        [LayerOp.AdaptiveAvgPool2d] = ["outputSize"],
        [LayerOp.Flatten] = [],
        [LayerOp.BatchNorm] = ["epsilon", "bias"],
        [LayerOp.Add] = [],
        [LayerOp.Identity] = [],
        [LayerOp.Activation] = ["activation"],
    };

    /// <summary>An op's name in the file: the <see cref="LayerOp"/> name in lower case (conv2d, batchnorm, ...).</summary>
    public static string OpName(LayerOp op) => op.ToString().ToLowerInvariant();

    /// <summary>Reads the graph form's fields into a checked <see cref="NetworkSpec"/>.</summary>
    public static NetworkSpec Parse(string source, IReadOnlyDictionary<string, JsonElement> fields)
    {
        if (!fields.TryGetValue("inputShape", out var shapeElement))
            throw Error(source, "inputShape", "missing; expected the per-sample input shape, e.g. [1, 28, 28]");
        if (!fields.TryGetValue("layers", out var layersElement))
            throw Error(source, "layers", "missing; expected an array of layers");
        var shape = ParseInputShape(source, shapeElement);
        if (layersElement.ValueKind != JsonValueKind.Array)
            throw Error(source, "layers", $"expected an array of layer objects, got {Kind(layersElement)}");
        if (layersElement.GetArrayLength() is 0 or > ReaderLimits.MaxGraphLayers)
            throw Error(source, "layers", $"expected 1 to {ReaderLimits.MaxGraphLayers} layers, got {layersElement.GetArrayLength()}");
        var layers = new List<LayerSpec>();
        foreach (var item in layersElement.EnumerateArray())
            layers.Add(ParseLayer(source, $"layers[{layers.Count}]", item, layers.Count == 0 ? NetworkSpec.InputName : layers[^1].Name));
        var spec = new NetworkSpec(shape, layers);
        try
        {
            spec.Validate();
        }
        catch (InvalidNetworkException e)
        {
            throw Error(source, "layers", e.Message);
        }
        return spec;
    }

    private static long[] ParseInputShape(string source, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() is < 1 or > 3)
            throw Error(source, "inputShape", $"expected 1 to 3 positive integers ([features], [channels, length] or [channels, height, width]), got {Raw(element)}");
        var shape = new List<long>();
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var d) || d < 1 || d > ReaderLimits.MaxWidth)
                throw Error(source, $"inputShape[{shape.Count}]", $"expected a positive integer up to {ReaderLimits.MaxWidth}");
            shape.Add(d);
        }
        if (shape.Aggregate(1.0, (a, b) => a * b) > ReaderLimits.MaxWidth) // in doubles: three factors of 2^24 overflow a long
            throw Error(source, "inputShape", $"expected at most {ReaderLimits.MaxWidth} values per sample");
        return [.. shape];
    }

    private static LayerSpec ParseLayer(string source, string at, JsonElement item, string previous)
    {
        if (item.ValueKind != JsonValueKind.Object)
            throw Error(source, at, $"expected a layer object, got {Kind(item)}");
        var fields = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in item.EnumerateObject())
        {
            if (!fields.TryAdd(p.Name, p.Value))
                throw Error(source, $"{at}.{Short(p.Name)}", "given twice");
        }
        string name = Text(source, $"{at}.name", fields, required: true)!;
        if (name.Length > 200 || name == NetworkSpec.InputName || name.Any(char.IsControl))
            throw Error(source, $"{at}.name", $"expected a module name of 1 to 200 characters other than '{NetworkSpec.InputName}'");
        var opText = Text(source, $"{at}.op", fields, required: true)!;
        var op = Enum.GetValues<LayerOp>().FirstOrDefault(o => string.Equals(OpName(o), opText, StringComparison.OrdinalIgnoreCase), (LayerOp)(-1));
        if (!Attributes.TryGetValue(op, out var allowed))
            throw Error(source, $"{at}.op", $"unknown op; expected one of {string.Join(", ", Enum.GetValues<LayerOp>().Select(OpName))}");
        foreach (var key in fields.Keys)
        {
            if (key is not ("name" or "op" or "inputs") && !allowed.Contains(key, StringComparer.OrdinalIgnoreCase))
                throw Error(source, $"{at}.{Short(key)}", $"unknown field for a {OpName(op)} layer; expected {string.Join(", ", ["name", "op", "inputs", .. allowed])}");
        }
        return Attributed(source, at, fields, new LayerSpec(name, op, ParseInputs(source, at, fields, previous)));
    }

    private static LayerSpec Attributed(string source, string at, Dictionary<string, JsonElement> fields, LayerSpec layer)
    {
        int rank = layer.Op == LayerOp.Conv1d ? 1 : 2;
        IReadOnlyList<int>? Ints(string key, int min) => SpatialInts(source, $"{at}.{key}", fields, key, rank, min);
        var activation = Text(source, $"{at}.activation", fields, required: layer.Op == LayerOp.Activation);
        return layer with
        {
            Kernel = Ints("kernel", 1),
            Stride = Ints("stride", 1),
            Padding = Ints("padding", 0),
            Dilation = Ints("dilation", 1),
            OutputSize = Ints("outputSize", 1),
            Groups = fields.TryGetValue("groups", out var g) ? Integer(source, $"{at}.groups", g, 1, ReaderLimits.MaxWidth) : 1,
            Bias = !fields.TryGetValue("bias", out var b) || Bool(source, $"{at}.bias", b),
            CountIncludePad = !fields.TryGetValue("countIncludePad", out var c) || Bool(source, $"{at}.countIncludePad", c),
            Epsilon = fields.TryGetValue("epsilon", out var e) ? Epsilon(source, $"{at}.epsilon", e) : 1e-5,
            Activation = activation is null ? null : ParseActivation(source, $"{at}.activation", activation),
        };
    }

    private static string[] ParseInputs(string source, string at, Dictionary<string, JsonElement> fields, string previous)
    {
        if (!fields.TryGetValue("inputs", out var inputs))
            return [previous];
        if (inputs.ValueKind != JsonValueKind.Array || inputs.GetArrayLength() is < 1 or > 2)
            throw Error(source, $"{at}.inputs", $"expected an array of 1 or 2 layer names, got {Raw(inputs)}");
        var names = new List<string>();
        foreach (var item in inputs.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(item.GetString()) || item.GetString()!.Length > 200)
                throw Error(source, $"{at}.inputs[{names.Count}]", $"expected a layer name or '{NetworkSpec.InputName}', got {Raw(item)}");
            names.Add(item.GetString()!);
        }
        return [.. names];
    }

    private static int[]? SpatialInts(string source, string at, Dictionary<string, JsonElement> fields, string key, int rank, int min)
    {
        if (!fields.TryGetValue(key, out var element))
            return null;
        if (element.ValueKind == JsonValueKind.Number)
            return Enumerable.Repeat(Integer(source, at, element, min, MaxSpatial), rank).ToArray();
        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() != rank)
            throw Error(source, at, $"expected an integer or an array of {rank}, got {Raw(element)}");
        return element.EnumerateArray().Select((v, i) => Integer(source, $"{at}[{i}]", v, min, MaxSpatial)).ToArray();
    }

    private static int Integer(string source, string at, JsonElement element, int min, int max)
    {
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out var value) || value < min || value > max)
            throw Error(source, at, $"expected an integer from {min} to {max}, got {(element.ValueKind == JsonValueKind.Number ? "a number out of range" : Raw(element))}");
        return value;
    }

    private static bool Bool(string source, string at, JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw Error(source, at, $"expected true or false, got {Raw(element)}"),
    };

    private static double Epsilon(string source, string at, JsonElement element)
    {
        double value = Number(source, at, element);
        if (!(value > 0) || value >= 1)
            throw Error(source, at, "expected a number > 0 and < 1");
        return value;
    }

    private static string? Text(string source, string at, Dictionary<string, JsonElement> fields, bool required)
    {
        var key = at[(at.LastIndexOf('.') + 1)..];
        if (!fields.TryGetValue(key, out var element))
            return required ? throw Error(source, at, "missing") : null;
        if (element.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(element.GetString()))
            throw Error(source, at, $"expected a non-empty string, got {Raw(element)}");
        return element.GetString();
    }

    /// <summary>A field name as it may appear in a message (a long one is file content, not a name).</summary>
    private static string Short(string name) => name.Length <= 64 && !name.Any(char.IsControl) ? name : "(a field)";

    /// <summary>Writes the graph form's fields so that <see cref="Parse"/> reads back the same spec.</summary>
    public static void Write(Utf8JsonWriter writer, NetworkSpec spec)
    {
        writer.WriteStartArray("inputShape");
        foreach (var d in spec.InputShape)
            writer.WriteNumberValue(d);
        writer.WriteEndArray();
        writer.WriteStartArray("layers");
        foreach (var layer in spec.Layers)
            WriteLayer(writer, layer);
        writer.WriteEndArray();
    }

    private static void WriteLayer(Utf8JsonWriter writer, LayerSpec layer)
    {
        writer.WriteStartObject();
        writer.WriteString("name", layer.Name);
        writer.WriteString("op", OpName(layer.Op));
        writer.WriteStartArray("inputs");
        foreach (var input in layer.Inputs)
            writer.WriteStringValue(input);
        writer.WriteEndArray();
        var allowed = Attributes[layer.Op];
        foreach (var (key, values) in Spatial.Zip(new[] { layer.Kernel, layer.Stride, layer.Padding, layer.Dilation, layer.OutputSize }))
        {
            if (values is null || !allowed.Contains(key))
                continue;
            writer.WriteStartArray(key);
            foreach (var v in values)
                writer.WriteNumberValue(v);
            writer.WriteEndArray();
        }
        if (allowed.Contains("groups") && layer.Groups != 1)
            writer.WriteNumber("groups", layer.Groups);
        if (allowed.Contains("bias") && !layer.Bias)
            writer.WriteBoolean("bias", false);
        if (allowed.Contains("countIncludePad") && !layer.CountIncludePad)
            writer.WriteBoolean("countIncludePad", false);
        if (allowed.Contains("epsilon"))
            writer.WriteNumber("epsilon", layer.Epsilon);
        if (layer.Activation is { } activation)
            writer.WriteString("activation", ActivationText(activation));
        writer.WriteEndObject();
    }
}
