using System.Globalization;
using System.Text;
using System.Text.Json;
using Fisher.Estimators;
using Fisher.Estimators.Graph;

namespace Fisher.Data;

/// <summary>
/// The architecture file of a network, in one of three forms: a feed-forward network (widths, input first; one
/// activation per hidden layer; the <c>nn.Sequential</c> names of the Linear layers), a layer graph
/// (<see cref="Graph"/>: per-sample input shape and layers, <see cref="ArchitectureGraphJson"/>), or a head
/// (<see cref="IsHead"/>: no layers, for an ONNX model, whose file defines them); each with the likelihood, the
/// Gaussian variance σ² and the input scaling. Equality compares the contents.
/// </summary>
public sealed record ModelArchitecture(
    IReadOnlyList<int> Widths,
    IReadOnlyList<Activation> Activations,
    string Likelihood,
    double Variance,
    IReadOnlyList<string> LayerNames,
    InputScaling Input)
{
    private static readonly string[] KnownFields = ["widths", "activations", "activation", "likelihood", "variance", "layerNames", "input", .. ArchitectureGraphJson.Fields];
    private static readonly string[] MlpFields = ["widths", "activations", "activation", "layerNames"];

    /// <summary>The layer graph of the graph form; null for the feed-forward form (then the lists above describe it).</summary>
    public NetworkSpec? Graph { get; init; }

    /// <summary>True for the graph form.</summary>
    public bool IsGraph => Graph is not null;

    /// <summary>True for the head form: likelihood, variance and input scaling only (the layers come from an ONNX model).</summary>
    public bool IsHead => Graph is null && Widths.Count == 0;

    /// <summary>True for the feed-forward form (widths).</summary>
    public bool IsFeedForward => Graph is null && Widths.Count > 0;

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Reads and validates an architecture file; every error is a <see cref="DataFormatException"/> naming the file and field.</summary>
    public static ModelArchitecture Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string json;
        try
        {
            using var stream = RegularFile.OpenRead(path);
            var bytes = new byte[ReaderLimits.MaxArchitectureBytes + 1];
            int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false); // never more than the cap
            if (read > ReaderLimits.MaxArchitectureBytes)
                throw new DataFormatException(path, $"the file is over {ReaderLimits.MaxArchitectureBytes} bytes; expected a small architecture JSON");
            json = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 0, read);
        }
        catch (DecoderFallbackException e)
        {
            throw new DataFormatException(path, "not UTF-8 text; expected an architecture JSON", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (e is FileNotFoundException or DirectoryNotFoundException)
                throw;
            throw new DataFormatException(path, $"cannot read the file: {e.GetType().Name}", e);
        }
        return Parse(json, path);
    }

    /// <summary>Parses and validates architecture JSON; <paramref name="source"/> names the file in error messages.</summary>
    public static ModelArchitecture Parse(string json, string source)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(source);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(source, $"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Error(source, "(root)", $"expected a JSON object, got {Kind(root)}");
            var fields = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
            foreach (var property in root.EnumerateObject())
            {
                var known = KnownFields.FirstOrDefault(f => string.Equals(f, property.Name, StringComparison.OrdinalIgnoreCase))
                    ?? throw Error(source, property.Name.Length <= 64 ? property.Name : "(a field)", $"unknown field; expected one of {string.Join(", ", KnownFields)}");
                if (!fields.TryAdd(known, property.Value))
                    throw Error(source, property.Name, "given twice");
            }

            if (ArchitectureGraphJson.Fields.Any(fields.ContainsKey))
                return ParseGraphForm(source, fields);
            if (!MlpFields.Any(fields.ContainsKey))
                return ParseHead(source, fields);
            var widths = ParseWidths(source, fields);
            int hidden = widths.Length - 2;
            var activations = ParseActivations(source, fields, hidden);

            double variance = ParseVariance(source, fields);
            var likelihood = ParseLikelihood(source, fields, widths[^1], variance);

            var layerNames = ParseLayerNames(source, fields, widths.Length - 1);
            var input = ParseInput(source, fields);
            return new ModelArchitecture(widths, activations, likelihood, variance, layerNames, input);
        }
    }

    private static ModelArchitecture ParseGraphForm(string source, Dictionary<string, JsonElement> fields)
    {
        if (MlpFields.FirstOrDefault(fields.ContainsKey) is { } mlp)
            throw Error(source, mlp, "a field of the feed-forward form; a graph ('inputShape' and 'layers') takes none of widths, activations, activation, layerNames");
        var graph = ArchitectureGraphJson.Parse(source, fields);
        double variance = ParseVariance(source, fields);
        var likelihood = ParseLikelihood(source, fields, outputs: null, variance);
        return new ModelArchitecture([], [], likelihood, variance, [], ParseInput(source, fields)) { Graph = graph };
    }

    /// <summary>The head form: no network fields at all (an ONNX model defines the layers).</summary>
    private static ModelArchitecture ParseHead(string source, Dictionary<string, JsonElement> fields)
    {
        double variance = ParseVariance(source, fields);
        var likelihood = ParseLikelihood(source, fields, outputs: null, variance);
        return new ModelArchitecture([], [], likelihood, variance, [], ParseInput(source, fields));
    }

    /// <summary>
    /// The head of an ONNX model given without an architecture file: <paramref name="likelihood"/> (the job's override),
    /// σ² = 1 (the job's override applies on top) and no input scaling.
    /// </summary>
    public static ModelArchitecture Head(LikelihoodFamily likelihood) =>
        new([], [], SpecNames.Likelihoods.Key(likelihood), 1.0, [], new InputScaling());

    private static double ParseVariance(string source, Dictionary<string, JsonElement> fields)
    {
        if (!fields.TryGetValue("variance", out var v))
            return 1.0;
        double variance = Number(source, "variance", v);
        if (!(variance > 0) || double.IsInfinity(variance))
            throw Error(source, "variance", $"expected a finite number > 0 (the Gaussian σ²), got {Format(variance)}");
        return variance;
    }

    /// <summary>The likelihood's canonical name, checked against the output width when the form declares it.</summary>
    private static string ParseLikelihood(string source, Dictionary<string, JsonElement> fields, int? outputs, double variance)
    {
        if (!fields.TryGetValue("likelihood", out var l))
            throw Error(source, "likelihood", "missing; expected gaussian, categorical, bernoulli or poisson");
        if (l.ValueKind != JsonValueKind.String)
            throw Error(source, "likelihood", $"expected a string, got {Kind(l)}");
        try
        {
            // A graph's output width comes from its weights: the name is checked here, the width when the graph is built.
            return Fisher.Estimators.Likelihood.Create(l.GetString()!, outputs ?? 2, variance).Name;
        }
        catch (ArgumentException e)
        {
            // An unknown name is not quoted (it is file content); a bad output width is.
            throw Error(source, "likelihood", e is ArgumentOutOfRangeException ? e.Message.Split(" (Parameter")[0]
                : $"unknown likelihood; expected {string.Join(", ", SpecNames.Likelihoods.Keys)}");
        }
    }

    /// <summary>The default <c>nn.Sequential</c> names of <paramref name="layers"/> Linear layers: "0", "2", "4", ...</summary>
    public static IReadOnlyList<string> DefaultLayerNames(int layers) =>
        Enumerable.Range(0, layers).Select(i => (2 * i).ToString(CultureInfo.InvariantCulture)).ToArray();

    /// <summary>The likelihood over the last width (the network outputs); feed-forward form only (a graph's width comes from its weights: <see cref="CreateLikelihood(int)"/>).</summary>
    public Likelihood CreateLikelihood() => CreateLikelihood(Graph is null ? Widths[^1] : throw new InvalidOperationException("a graph architecture's output width comes from its weights"));

    /// <summary>The likelihood over <paramref name="outputs"/> network outputs.</summary>
    public Likelihood CreateLikelihood(int outputs) => Fisher.Estimators.Likelihood.Create(Likelihood, outputs, Variance);

    /// <summary>The parameter tensors a state dict must hold: <c>0.weight</c> [w1, w0], <c>0.bias</c> [w1], ...; feed-forward form only.</summary>
    public IReadOnlyList<(string Name, long[] Shape)> ExpectedParameters()
    {
        if (Graph is not null)
            throw new InvalidOperationException("a graph architecture's parameter shapes come from its weights");
        var result = new List<(string, long[])>(2 * (Widths.Count - 1));
        for (int i = 0; i + 1 < Widths.Count; i++)
        {
            result.Add(($"{LayerNames[i]}.weight", [Widths[i + 1], Widths[i]]));
            result.Add(($"{LayerNames[i]}.bias", [Widths[i + 1]]));
        }
        return result;
    }

    /// <summary>Indented JSON that <see cref="Parse"/> reads back to an equal architecture.</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            if (Graph is not null)
                ArchitectureGraphJson.Write(writer, Graph);
            else if (!IsHead)
                WriteFeedForward(writer);
            if (IsGraph || IsHead)
                WriteLikelihood(writer);
            writer.WriteStartObject("input");
            writer.WriteNumber("scale", Input.Scale);
            writer.WriteNumber("shift", Input.Shift);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The feed-forward form's fields, in the order earlier versions wrote them (summary.json keeps its text).</summary>
    private void WriteFeedForward(Utf8JsonWriter writer)
    {
        writer.WriteStartArray("widths");
        foreach (var w in Widths)
            writer.WriteNumberValue(w);
        writer.WriteEndArray();
        writer.WriteStartArray("activations");
        foreach (var a in Activations)
            writer.WriteStringValue(ActivationText(a));
        writer.WriteEndArray();
        WriteLikelihood(writer);
        writer.WriteStartArray("layerNames");
        foreach (var n in LayerNames)
            writer.WriteStringValue(n);
        writer.WriteEndArray();
    }

    private void WriteLikelihood(Utf8JsonWriter writer)
    {
        writer.WriteString("likelihood", Likelihood);
        writer.WriteNumber("variance", Variance);
    }

    /// <inheritdoc />
    public bool Equals(ModelArchitecture? other) =>
        other is not null
        && Widths.SequenceEqual(other.Widths)
        && Activations.SequenceEqual(other.Activations)
        && string.Equals(Likelihood, other.Likelihood, StringComparison.Ordinal)
        && Variance.Equals(other.Variance)
        && LayerNames.SequenceEqual(other.LayerNames, StringComparer.Ordinal)
        && Input == other.Input
        && (Graph is null) == (other.Graph is null)
        && (Graph is null || string.Equals(ToJson(), other.ToJson(), StringComparison.Ordinal));

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var w in Widths)
            hash.Add(w);
        foreach (var a in Activations)
            hash.Add(a);
        hash.Add(Likelihood, StringComparer.Ordinal);
        hash.Add(Variance);
        foreach (var n in LayerNames)
            hash.Add(n, StringComparer.Ordinal);
        hash.Add(Input);
        hash.Add(Graph?.Layers.Count);
        return hash.ToHashCode();
    }

    internal static string ActivationText(Activation a) =>
        a.Kind == ActivationKind.LeakyRelu && a.NegativeSlope != 0.01
            ? $"leaky_relu:{a.NegativeSlope.ToString("R", CultureInfo.InvariantCulture)}"
            : a.Name;

    private static int[] ParseWidths(string source, Dictionary<string, JsonElement> fields)
    {
        if (!fields.TryGetValue("widths", out var w))
            throw Error(source, "widths", "missing; expected the layer widths, input first, e.g. [784, 128, 10]");
        if (w.ValueKind != JsonValueKind.Array)
            throw Error(source, "widths", $"expected an array of positive integers, got {Kind(w)}");
        var widths = new List<int>();
        int i = 0;
        foreach (var item in w.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var width))
                throw Error(source, $"widths[{i}]", $"expected a positive integer, got {Raw(item)}");
            if (width <= 0 || width > ReaderLimits.MaxWidth)
                throw Error(source, $"widths[{i}]", $"expected a positive integer up to {ReaderLimits.MaxWidth}, got {width}");
            if (widths.Count >= ReaderLimits.MaxWidths)
                throw Error(source, "widths", $"more than {ReaderLimits.MaxWidths} entries");
            widths.Add(width);
            i++;
        }
        if (widths.Count < 2)
            throw Error(source, "widths", $"expected at least 2 entries (input and output width), got {widths.Count}");
        long parameters = 0;
        for (int l = 0; l + 1 < widths.Count; l++)
            parameters += ((long)widths[l] + 1) * widths[l + 1]; // each width <= 2^24 and at most 1024 of them: no overflow
        if (parameters > ReaderLimits.MaxParameters)
            throw Error(source, "widths", $"declare {parameters} parameters; expected at most {ReaderLimits.MaxParameters}");
        return widths.ToArray();
    }

    private static Activation[] ParseActivations(string source, Dictionary<string, JsonElement> fields, int hidden)
    {
        bool hasList = fields.TryGetValue("activations", out var list);
        bool hasOne = fields.TryGetValue("activation", out var one);
        if (hasList && hasOne)
            throw Error(source, "activation", "give either 'activations' (one per hidden layer) or 'activation' (for all hidden layers), not both");
        if (hasOne)
        {
            if (one.ValueKind != JsonValueKind.String)
                throw Error(source, "activation", $"expected a string, got {Kind(one)}");
            var a = ParseActivation(source, "activation", one.GetString()!);
            return Enumerable.Repeat(a, hidden).ToArray();
        }
        if (!hasList)
        {
            if (hidden == 0)
                return [];
            throw Error(source, "activations", $"missing; expected {hidden} entries (one per hidden layer) or a single 'activation'");
        }
        if (list.ValueKind != JsonValueKind.Array)
            throw Error(source, "activations", $"expected an array of {hidden} activation names, got {Kind(list)}");
        var result = new List<Activation>();
        int i = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
                throw Error(source, $"activations[{i}]", $"expected an activation name, got {Raw(item)}");
            result.Add(ParseActivation(source, $"activations[{i}]", item.GetString()!));
            i++;
        }
        if (result.Count != hidden)
            throw Error(source, "activations", $"expected {hidden} entries (one per hidden layer: widths has {hidden + 2} entries), got {result.Count}");
        return result.ToArray();
    }

    internal static Activation ParseActivation(string source, string field, string text)
    {
        // "leaky_relu:0.2" carries a negative slope; every other name is passed to Activation.Parse as is.
        double slope = 0.01;
        var name = text;
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            name = text[..colon];
            if (!double.TryParse(text[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out slope) || !double.IsFinite(slope))
                throw Error(source, field, $"expected 'leaky_relu:<slope>' with a finite number");
        }
        try
        {
            var activation = Activation.Parse(name, slope);
            if (colon >= 0 && activation.Kind != ActivationKind.LeakyRelu)
                throw Error(source, field, "only leaky_relu takes a parameter");
            return activation;
        }
        catch (ArgumentException)
        {
            // Activation.Parse quotes the name; neither this message nor an inner exception does (it is file content).
            throw Error(source, field, $"unknown activation; expected one of {string.Join(", ", Activation.SupportedNames)}");
        }
    }

    private static string[] ParseLayerNames(string source, Dictionary<string, JsonElement> fields, int layers)
    {
        if (!fields.TryGetValue("layerNames", out var n) || n.ValueKind == JsonValueKind.Null)
            return DefaultLayerNames(layers).ToArray();
        if (n.ValueKind != JsonValueKind.Array)
            throw Error(source, "layerNames", $"expected an array of {layers} strings, got {Kind(n)}");
        var names = new List<string>();
        int i = 0;
        foreach (var item in n.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()))
                throw Error(source, $"layerNames[{i}]", $"expected a non-empty string, got {Raw(item)}");
            var name = item.GetString()!;
            if (names.Contains(name, StringComparer.Ordinal))
                throw Error(source, $"layerNames[{i}]", $"duplicate name '{name}'");
            names.Add(name);
            i++;
        }
        if (names.Count != layers)
            throw Error(source, "layerNames", $"expected {layers} names (one per Linear layer), got {names.Count}");
        return names.ToArray();
    }

    private static InputScaling ParseInput(string source, Dictionary<string, JsonElement> fields)
    {
        if (!fields.TryGetValue("input", out var input) || input.ValueKind == JsonValueKind.Null)
            return new InputScaling();
        if (input.ValueKind != JsonValueKind.Object)
            throw Error(source, "input", $"expected an object {{\"scale\": s, \"shift\": b}}, got {Kind(input)}");
        double scale = 1.0, shift = 0.0;
        foreach (var p in input.EnumerateObject())
        {
            if (string.Equals(p.Name, "scale", StringComparison.OrdinalIgnoreCase))
            {
                scale = Number(source, "input.scale", p.Value);
                if (!double.IsFinite(scale) || scale == 0)
                    throw Error(source, "input.scale", $"expected a finite non-zero number, got {Format(scale)}");
            }
            else if (string.Equals(p.Name, "shift", StringComparison.OrdinalIgnoreCase))
            {
                shift = Number(source, "input.shift", p.Value);
                if (!double.IsFinite(shift))
                    throw Error(source, "input.shift", $"expected a finite number, got {Format(shift)}");
            }
            else
            {
                throw Error(source, $"input.{p.Name}", "unknown field; expected scale or shift");
            }
        }
        return new InputScaling(scale, shift);
    }

    internal static double Number(string source, string field, JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out var value))
            throw Error(source, field, $"expected a number, got {Raw(e)}");
        return value;
    }

    internal static DataFormatException Error(string source, string field, string detail) => new(source, $"{field}: {detail}");

    internal static string Kind(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();

    /// <summary>What a value is (never its text: errors do not echo file content).</summary>
    internal static string Raw(JsonElement e) => $"a {Kind(e)}";

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
