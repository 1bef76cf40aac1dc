using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Fisher.Deploy.Tests;

/// <summary>
/// The Kubernetes objects of <c>deploy/k8s</c> as a cluster would receive them: an overlay rendered by
/// <c>kubectl kustomize</c> (Debian/apt package <c>kubectl</c>), or a plain manifest file, each document as JSON.
/// </summary>
internal static class Kustomize
{
    /// <summary>The repository's <c>deploy/k8s</c> folder.</summary>
    public static string K8sFolder => Path.Combine(TestProcess.RepoRoot, "deploy", "k8s");

    /// <summary><c>kubectl kustomize</c> of <paramref name="folder"/> (relative to <see cref="K8sFolder"/>), parsed.</summary>
    public static async Task<IReadOnlyList<JsonObject>> Render(string folder)
    {
        var kubectl = Requirements.Program("kubectl", "kubectl");
        var result = await TestProcess.Run(kubectl, ["kustomize", Path.Combine(K8sFolder, folder)], TestTimeouts.Request);
        Assert.True(result.ExitCode == 0, $"kubectl kustomize {folder} failed:\n{result.Describe()}");
        return Parse(result.Stdout, $"kubectl kustomize {folder}");
    }

    /// <summary>The documents of a manifest file (relative to <see cref="K8sFolder"/>).</summary>
    public static IReadOnlyList<JsonObject> Load(string file) => Parse(File.ReadAllText(Path.Combine(K8sFolder, file)), file);

    /// <summary>Every non-empty YAML document of <paramref name="yaml"/> as a JSON object (YAML 1.2 core scalars).</summary>
    public static IReadOnlyList<JsonObject> Parse(string yaml, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new InvalidOperationException($"{source}: not YAML ({e.Start}): {e.Message}", e);
        }
        var objects = new List<JsonObject>();
        foreach (var document in stream.Documents)
        {
            if (ToJson(document.RootNode) is JsonObject o)
                objects.Add(o);
        }
        return objects;
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(p => KeyValuePair.Create(((YamlScalarNode)p.Key).Value ?? "", ToJson(p.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar => Scalar(scalar),
        _ => throw new InvalidOperationException($"unexpected YAML node {node.GetType().Name} at {node.Start}"),
    };

    /// <summary>A plain scalar is null, a boolean, an integer or a float when it reads as one (YAML 1.2 core schema); anything quoted is a string.</summary>
    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain)
            return JsonValue.Create(text);
        if (text is "" or "~" or "null" or "Null" or "NULL")
            return null;
        if (text is "true" or "True" or "TRUE")
            return JsonValue.Create(true);
        if (text is "false" or "False" or "FALSE")
            return JsonValue.Create(false);
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
            return JsonValue.Create(l);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && text.Any(char.IsDigit))
            return JsonValue.Create(d);
        return JsonValue.Create(text);
    }

    /// <summary>The one object of <paramref name="kind"/> named <paramref name="name"/>.</summary>
    public static JsonObject Find(this IEnumerable<JsonObject> objects, string kind, string name) =>
        objects.SingleOrDefault(o => (string?)o["kind"] == kind && (string?)o["metadata"]?["name"] == name)
        ?? throw new InvalidOperationException($"no {kind} named {name} among: {string.Join(", ", objects.Select(Describe))}");

    /// <summary>"Kind/name".</summary>
    public static string Describe(JsonObject o) => $"{(string?)o["kind"]}/{(string?)o["metadata"]?["name"]}";

    /// <summary>The pod template's spec of a Deployment, StatefulSet, DaemonSet or Job.</summary>
    public static JsonObject PodSpec(this JsonObject workload) =>
        workload["spec"]?["template"]?["spec"] as JsonObject ?? throw new InvalidOperationException($"{Describe(workload)} has no spec.template.spec");

    /// <summary>The pod template's labels.</summary>
    public static IReadOnlyDictionary<string, string> PodLabels(this JsonObject workload) =>
        (workload["spec"]?["template"]?["metadata"]?["labels"] as JsonObject)?.ToDictionary(p => p.Key, p => (string?)p.Value ?? "") ?? [];

    /// <summary>The container named <paramref name="name"/> of the pod template.</summary>
    public static JsonObject Container(this JsonObject workload, string name) =>
        workload.PodSpec()["containers"]!.AsArray().OfType<JsonObject>().SingleOrDefault(c => (string?)c["name"] == name)
        ?? throw new InvalidOperationException($"{Describe(workload)} has no container named {name}");
}
