using System.Text.Json.Nodes;
using Fisher.EndToEnd.Tests;
using Fisher.Tests;

namespace Fisher.Deploy.Tests;

/// <summary>
/// The Kubernetes manifests of deploy/k8s as the cluster would receive them: each overlay rendered by
/// <c>kubectl kustomize</c>, and the job manifest (one file, applied as it is) passed through kustomize alone so that
/// its YAML is read the same way.
/// </summary>
public static class Manifests
{
    /// <summary>The overlays under deploy/k8s/overlays.</summary>
    public const string Dev = "dev", Prod = "prod";

    /// <summary>deploy/k8s in the repository.</summary>
    public static string Root { get; } = Path.Combine(TestProcess.RepoRoot, "deploy", "k8s");

    /// <summary>The folder of the manifests applied as they are: the estimate Job with its results claim, and the data loader pod.</summary>
    public static string JobFolder { get; } = Path.Combine(Root, "job");

    /// <summary>The objects overlay <paramref name="overlay"/> renders to.</summary>
    public static IReadOnlyList<JsonObject> Overlay(string overlay) =>
        YamlDocuments.Parse(Kustomize(Path.Combine(Root, "overlays", overlay)), $"deploy/k8s/overlays/{overlay}");

    /// <summary>The objects of the manifests in <see cref="JobFolder"/>.</summary>
    public static IReadOnlyList<JsonObject> Job()
    {
        var folder = Directory.CreateTempSubdirectory("fisher-job-kustomize-");
        try
        {
            var files = Directory.GetFiles(JobFolder, "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            foreach (var file in files)
                File.Copy(Path.Combine(JobFolder, file!), Path.Combine(folder.FullName, file!));
            File.WriteAllText(Path.Combine(folder.FullName, "kustomization.yaml"), "resources:\n" + string.Concat(files.Select(f => $"  - {f}\n")));
            return YamlDocuments.Parse(Kustomize(folder.FullName), "deploy/k8s/job/*.yaml");
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>The output of <c>kubectl kustomize <paramref name="folder"/></c>; a failure names the folder and kubectl's message.</summary>
    public static string Kustomize(string folder)
    {
        var kubectl = Requirements.Program("kubectl", "kubectl");
        var result = TestProcess.Run(kubectl, ["kustomize", folder], TestTimeouts.Request).GetAwaiter().GetResult();
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"kubectl kustomize {Path.GetRelativePath(TestProcess.RepoRoot, folder)} failed:\n{result.Describe()}");
        return result.Stdout;
    }

    /// <summary>"Kind/name" of an object, as messages name it.</summary>
    public static string Describe(JsonObject o) => $"{o["kind"]?.GetValue<string>() ?? "?"}/{o["metadata"]?["name"]?.GetValue<string>() ?? "?"}";

    /// <summary>The objects of <paramref name="kind"/>.</summary>
    public static IEnumerable<JsonObject> OfKind(this IEnumerable<JsonObject> objects, string kind) =>
        objects.Where(o => o["kind"]?.GetValue<string>() == kind);

    /// <summary>The object of <paramref name="kind"/> named <paramref name="name"/> (a generated name's hash suffix aside), or null.</summary>
    public static JsonObject? Find(this IEnumerable<JsonObject> objects, string kind, string name) =>
        objects.OfKind(kind).FirstOrDefault(o => o["metadata"]?["name"]?.GetValue<string>() is { } n && (n == name || (n.StartsWith(name + "-", StringComparison.Ordinal) && n.Length == name.Length + 11)));

    /// <summary>The kinds that hold a pod template, and the path to it.</summary>
    public static readonly string[] WorkloadKinds = ["Deployment", "StatefulSet", "Job", "DaemonSet", "ReplicaSet", "CronJob"];

    /// <summary>Every workload with its pod template (a CronJob's is one level deeper).</summary>
    public static IEnumerable<(JsonObject Workload, JsonObject Template)> PodTemplates(this IEnumerable<JsonObject> objects)
    {
        foreach (var pod in objects.OfKind("Pod"))
            yield return (pod, pod); // a bare pod is its own template (metadata and spec)
        foreach (var o in objects.Where(o => WorkloadKinds.Contains(o["kind"]?.GetValue<string>())))
        {
            var template = o["kind"]!.GetValue<string>() == "CronJob" ? o["spec"]?["jobTemplate"]?["spec"]?["template"] : o["spec"]?["template"];
            if (template is JsonObject t)
                yield return (o, t);
        }
    }

    /// <summary>The value of environment variable <paramref name="name"/> of <paramref name="container"/> as written (null when absent or not a plain value).</summary>
    public static string? Env(JsonNode container, string name) =>
        container["env"]?.AsArray().FirstOrDefault(e => e?["name"]?.GetValue<string>() == name)?["value"]?.GetValue<string>();

    /// <summary>The pod template's spec of a workload.</summary>
    public static JsonObject PodSpec(this JsonObject workload) =>
        workload["spec"]?["template"]?["spec"] as JsonObject ?? throw new InvalidOperationException($"{Describe(workload)} has no spec.template.spec");

    /// <summary>The pod template's labels.</summary>
    public static IReadOnlyDictionary<string, string> PodLabels(this JsonObject workload) =>
        (workload["spec"]?["template"]?["metadata"]?["labels"] as JsonObject)?.ToDictionary(p => p.Key, p => p.Value?.GetValue<string>() ?? "") ?? [];

    /// <summary>The container named <paramref name="name"/> of the pod template (the first when null).</summary>
    public static JsonObject Container(this JsonObject workload, string? name = null) =>
        workload.PodSpec()["containers"]!.AsArray().OfType<JsonObject>().FirstOrDefault(c => name is null || c["name"]?.GetValue<string>() == name)
        ?? throw new InvalidOperationException($"{Describe(workload)} has no container named {name}");
}
