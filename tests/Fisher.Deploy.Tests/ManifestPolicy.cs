using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Fisher.Deploy.Tests;

/// <summary>
/// The properties issue 15 asks of the rendered manifests (an overlay together with the job manifest): pod security,
/// probes, resources, disruption budget, spreading, network policies, Redis persistence, services and the silos'
/// settings. <see cref="Violations"/> returns one line per violation, naming the object and the property.
/// </summary>
public static partial class ManifestPolicy
{
    public const string SiloWorkload = "fisher-silo", SiloContainer = "silo", RedisWorkload = "fisher-redis", RedisSecret = "fisher-redis", TlsSecret = "fisher-tls";

    /// <summary>Every violation in <paramref name="objects"/> (overlay <paramref name="overlay"/> and the job manifest).</summary>
    public static IReadOnlyList<string> Violations(string overlay, IReadOnlyList<JsonObject> objects)
    {
        var v = new List<string>();
        foreach (var secret in objects.OfKind("Secret"))
            v.Add($"{Manifests.Describe(secret)}: a Secret in the manifests; secrets are created with kubectl create secret, never committed");
        foreach (var (workload, template) in objects.PodTemplates())
            PodSecurity(objects, workload, template, v);
        foreach (var ns in objects.OfKind("Namespace"))
        {
            if (S(ns["metadata"]?["labels"]?["pod-security.kubernetes.io/enforce"]) != "restricted")
                v.Add($"{Manifests.Describe(ns)}: label pod-security.kubernetes.io/enforce: expected restricted");
        }
        Silo(overlay, objects, v);
        Services(objects, v);
        NetworkPolicies(objects, v);
        Redis(overlay, objects, v);
        Job(objects, v);
        return v;
    }

    // ---- every pod ----

    private static void PodSecurity(IReadOnlyList<JsonObject> objects, JsonObject workload, JsonObject template, List<string> v)
    {
        var w = Manifests.Describe(workload);
        var pod = template["spec"] as JsonObject ?? new JsonObject();
        if (B(pod["automountServiceAccountToken"]) != false)
            v.Add($"{w}: pod spec automountServiceAccountToken: expected false");
        if (S(pod["serviceAccountName"]) is not { } account || objects.Find("ServiceAccount", account) is not { } sa)
            v.Add($"{w}: pod spec serviceAccountName: expected a ServiceAccount of the manifests (not the namespace's default)");
        else if (B(sa["automountServiceAccountToken"]) != false)
            v.Add($"{Manifests.Describe(sa)}: automountServiceAccountToken: expected false");
        foreach (var key in new[] { "hostNetwork", "hostPID", "hostIPC" })
        {
            if (B(pod[key]) == true)
                v.Add($"{w}: pod spec {key}: expected absent or false");
        }
        var podContext = pod["securityContext"];
        if (L(podContext?["runAsUser"]) == 0)
            v.Add($"{w}: pod securityContext.runAsUser: expected a non-root user, got 0");
        foreach (var container in Containers(pod))
        {
            var c = $"{w}: container {S(container["name"])}";
            var context = container["securityContext"];
            if (B(context?["runAsNonRoot"] ?? podContext?["runAsNonRoot"]) != true)
                v.Add($"{c}: securityContext.runAsNonRoot (or the pod's): expected true");
            if (B(context?["readOnlyRootFilesystem"]) != true)
                v.Add($"{c}: securityContext.readOnlyRootFilesystem: expected true");
            if (B(context?["allowPrivilegeEscalation"]) != false)
                v.Add($"{c}: securityContext.allowPrivilegeEscalation: expected false");
            if (B(context?["privileged"]) == true)
                v.Add($"{c}: securityContext.privileged: expected absent or false");
            if (context?["capabilities"]?["drop"]?.AsArray().Any(d => S(d) == "ALL") != true)
                v.Add($"{c}: securityContext.capabilities.drop: expected ALL");
            if (S((context?["seccompProfile"] ?? podContext?["seccompProfile"])?["type"]) != "RuntimeDefault")
                v.Add($"{c}: securityContext.seccompProfile.type (or the pod's): expected RuntimeDefault");
            var resources = container["resources"];
            if (resources?["requests"]?["cpu"] is null)
                v.Add($"{c}: resources.requests.cpu: expected a CPU request");
            if (resources?["limits"]?["cpu"] is not null)
                v.Add($"{c}: resources.limits.cpu: expected no CPU limit (throttling stalls the silo's timers and leases)");
            if (resources?["requests"]?["memory"] is null || Quantity(resources["limits"]?["memory"]) != Quantity(resources["requests"]?["memory"]))
                v.Add($"{c}: resources.limits.memory: expected equal to resources.requests.memory");
            if (S(container["image"])?.StartsWith("fisher-distributed", StringComparison.Ordinal) == true
                && (MountOf(pod, container, "/tmp") is not { Volume: var tmp } || tmp?["emptyDir"] is null))
                v.Add($"{c}: volumeMounts: expected a writable emptyDir at /tmp (the image needs it; its root file system is read-only)");
            EnvReferences(c, container, v);
        }
    }

    /// <summary>Each $(VAR) in an env value names a variable declared before it; in command and args, any variable of the container.</summary>
    private static void EnvReferences(string c, JsonNode container, List<string> v)
    {
        var declared = new List<string>();
        foreach (var e in container["env"]?.AsArray() ?? [])
        {
            var name = S(e?["name"]) ?? "";
            foreach (Match m in Reference().Matches(S(e?["value"]) ?? ""))
            {
                if (!declared.Contains(m.Groups[1].Value))
                    v.Add($"{c}: env {name}: $({m.Groups[1].Value}) is not declared before it (Kubernetes leaves it unexpanded)");
            }
            declared.Add(name);
        }
        foreach (var field in new[] { "command", "args" })
        {
            foreach (var a in container[field]?.AsArray() ?? [])
            {
                foreach (Match m in Reference().Matches(S(a) ?? ""))
                {
                    if (!declared.Contains(m.Groups[1].Value))
                        v.Add($"{c}: {field}: $({m.Groups[1].Value}) is not an env variable of the container");
                }
            }
        }
    }

    // ---- services ----

    private static void Services(IReadOnlyList<JsonObject> objects, List<string> v)
    {
        var silo = objects.Find("Deployment", SiloWorkload);
        var siloLabels = silo is null ? [] : Labels((JsonObject)silo["spec"]!["template"]!);
        foreach (var service in objects.OfKind("Service"))
        {
            var s = Manifests.Describe(service);
            var headless = S(service["spec"]?["clusterIP"]) == "None";
            if (!headless && Selects(service["spec"]?["selector"], siloLabels))
                v.Add($"{s}: spec.clusterIP: expected None for a Service of the silos (no virtual IP for silo traffic)");
            foreach (var port in service["spec"]?["ports"]?.AsArray() ?? [])
            {
                var number = L(port?["port"]);
                var target = port?["targetPort"]?.ToString();
                if (!headless && (number is 11111 or 30000 || target is "silo" or "gateway" or "11111" or "30000"))
                    v.Add($"{s}: spec.ports {S(port?["name"]) ?? number?.ToString(CultureInfo.InvariantCulture)}: a virtual IP for silo or gateway traffic; expected none");
            }
        }
    }

    // ---- helpers ----

    private static string? S(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var s) ? s : null;

    private static long? L(JsonNode? node) =>
        node is not JsonValue value ? null : value.TryGetValue<long>(out var l) ? l : value.TryGetValue<int>(out var i) ? i : null;

    private static bool? B(JsonNode? node) => node is JsonValue value && value.TryGetValue<bool>(out var b) ? b : null;

    private static IEnumerable<JsonNode> Containers(JsonNode pod) =>
        (pod["containers"]?.AsArray() ?? []).Concat(pod["initContainers"]?.AsArray() ?? []).OfType<JsonNode>();

    private static Dictionary<string, string> Labels(JsonObject o) =>
        (o["metadata"]?["labels"] as JsonObject)?.ToDictionary(p => p.Key, p => S(p.Value) ?? "") ?? [];

    /// <summary>A label selector (matchLabels only; matchExpressions never match here) selects <paramref name="labels"/>; an empty one selects all.</summary>
    private static bool Selects(JsonNode? selector, Dictionary<string, string> labels) =>
        selector is JsonObject s && s["matchExpressions"] is null
        && ((s["matchLabels"] as JsonObject) ?? (s.ContainsKey("matchLabels") ? new JsonObject() : s)).All(p => labels.TryGetValue(p.Key, out var value) && value == S(p.Value));

    private sealed record Mount(string Name, JsonNode? Volume, bool ReadOnly, string Path);

    /// <summary>The mount of <paramref name="container"/> whose path is <paramref name="path"/> or holds it, and its pod volume (null for a claim template).</summary>
    private static Mount? MountOf(JsonNode pod, JsonNode container, string path)
    {
        var mount = (container["volumeMounts"]?.AsArray() ?? []).OfType<JsonNode>()
            .Where(m => S(m["mountPath"]) is { } p && (path == p || path.StartsWith(p.TrimEnd('/') + "/", StringComparison.Ordinal)))
            .MaxBy(m => S(m["mountPath"])!.Length);
        if (mount is null)
            return null;
        var name = S(mount["name"]) ?? "";
        return new Mount(name, pod["volumes"]?.AsArray().FirstOrDefault(x => S(x?["name"]) == name), B(mount["readOnly"]) == true, S(mount["mountPath"])!);
    }

    /// <summary>A Kubernetes memory quantity in bytes (plain, Ki/Mi/Gi/Ti, k/M/G/T), or null.</summary>
    public static long? Quantity(JsonNode? node)
    {
        var text = node?.ToString();
        var m = text is null ? null : QuantityPattern().Match(text);
        if (m is null || !m.Success)
            return null;
        var number = decimal.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        decimal factor = m.Groups[2].Value switch
        {
            "" => 1, "k" => 1e3m, "M" => 1e6m, "G" => 1e9m, "T" => 1e12m,
            "Ki" => 1L << 10, "Mi" => 1L << 20, "Gi" => 1L << 30, "Ti" => 1L << 40,
            _ => 0,
        };
        return factor == 0 ? null : (long)(number * factor);
    }

    [GeneratedRegex(@"^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")]
    private static partial Regex QuantityPattern();

    [GeneratedRegex(@"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")]
    private static partial Regex Reference();
}
