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

    // ---- the silos ----

    private static void Silo(string overlay, IReadOnlyList<JsonObject> objects, List<string> v)
    {
        if (objects.Find("Deployment", SiloWorkload) is not { } silo)
        {
            v.Add($"Deployment/{SiloWorkload}: missing");
            return;
        }
        var w = Manifests.Describe(silo);
        var template = (JsonObject)silo["spec"]!["template"]!;
        var pod = template["spec"]!;
        var labels = Labels(template);
        var replicas = L(silo["spec"]?["replicas"]) ?? 1;
        if (overlay == Manifests.Prod && replicas < 3)
            v.Add($"{w}: spec.replicas: expected at least 3 in prod, got {replicas}");
        if (overlay == Manifests.Dev && replicas != 1)
            v.Add($"{w}: spec.replicas: expected 1 in dev, got {replicas}");
        if (Containers(pod).FirstOrDefault(c => S(c["name"]) == SiloContainer) is not { } container)
        {
            v.Add($"{w}: container {SiloContainer}: missing");
            return;
        }
        var c = $"{w}: container {SiloContainer}";
        int? Port(string name) => (int?)L(container["ports"]?.AsArray().FirstOrDefault(p => S(p?["name"]) == name)?["containerPort"]);
        var http = Port("http");
        foreach (var name in new[] { "silo", "gateway", "http" })
        {
            if (Port(name) is null)
                v.Add($"{c}: ports: expected a port named {name}");
        }
        if (Manifests.Env(container, "Fisher__SiloPort") != Port("silo")?.ToString(CultureInfo.InvariantCulture))
            v.Add($"{c}: env Fisher__SiloPort: expected the containerPort named silo ({Port("silo")})");
        if (Manifests.Env(container, "Fisher__GatewayPort") != Port("gateway")?.ToString(CultureInfo.InvariantCulture))
            v.Add($"{c}: env Fisher__GatewayPort: expected the containerPort named gateway ({Port("gateway")})");
        if (Manifests.Env(container, "Fisher__Http__Address") != $"$(POD_IP):{http}")
            v.Add($"{c}: env Fisher__Http__Address: expected $(POD_IP):{http} (the pod IP and the port named http)");
        if (Manifests.Env(container, "Fisher__AdvertisedIP") != "$(POD_IP)")
            v.Add($"{c}: env Fisher__AdvertisedIP: expected $(POD_IP)");
        if (S(container["env"]?.AsArray().FirstOrDefault(e => S(e?["name"]) == "POD_IP")?["valueFrom"]?["fieldRef"]?["fieldPath"]) != "status.podIP")
            v.Add($"{c}: env POD_IP: expected valueFrom.fieldRef.fieldPath status.podIP");
        if (S(container["env"]?.AsArray().FirstOrDefault(e => S(e?["name"]) == "POD_NAME")?["valueFrom"]?["fieldRef"]?["fieldPath"]) != "metadata.name")
            v.Add($"{c}: env POD_NAME: expected valueFrom.fieldRef.fieldPath metadata.name");
        if (Manifests.Env(container, "Fisher__Health__LiveFromAnyAddress") != "true")
            v.Add($"{c}: env Fisher__Health__LiveFromAnyAddress: expected \"true\" (the kubelet's liveness probe comes from the node)");
        PasswordFromSecret(c, container, "Fisher__Redis", v);

        foreach (var (probe, path) in new[] { ("startupProbe", "/health/startup"), ("readinessProbe", "/health/ready"), ("livenessProbe", "/health/live") })
        {
            var get = container[probe]?["httpGet"];
            if (S(get?["path"]) != path || S(get?["port"]) != "http")
                v.Add($"{c}: {probe}: expected httpGet {path} on port http");
        }

        // Stopping: the .NET host's bound (shutdownTimeoutSeconds) includes the drain delay; the kubelet must wait longer.
        var grace = L(pod["terminationGracePeriodSeconds"]) ?? 30;
        if (!int.TryParse(Manifests.Env(container, "shutdownTimeoutSeconds"), CultureInfo.InvariantCulture, out var shutdown))
            v.Add($"{c}: env shutdownTimeoutSeconds: expected the silo's bound on stopping, in seconds");
        else if (grace <= shutdown)
            v.Add($"{w}: terminationGracePeriodSeconds: expected more than the silo's shutdownTimeoutSeconds ({shutdown}), got {grace}");
        var drain = TimeSpan.TryParse(Manifests.Env(container, "Fisher__Health__DrainDelay") ?? "00:00:01", CultureInfo.InvariantCulture, out var d) ? d : TimeSpan.MaxValue;
        if (drain.TotalSeconds >= shutdown)
            v.Add($"{c}: env Fisher__Health__DrainDelay: expected less than shutdownTimeoutSeconds ({shutdown} s)");

        // The dataset: read-only at the data root the silo is given.
        if (Manifests.Env(container, "Fisher__Grains__DataRoots__0") is not { } root)
            v.Add($"{c}: env Fisher__Grains__DataRoots__0: expected the dataset's mount path");
        else
            ReadOnlyClaim(c, pod, container, root, v);
        if (Manifests.Env(container, "FISHER_CACHE_DIR") is not { } cache || MountOf(pod, container, cache) is not { Volume: var cacheVolume, ReadOnly: false } || cacheVolume?["emptyDir"] is null)
            v.Add($"{c}: env FISHER_CACHE_DIR: expected a path with a writable emptyDir mounted");
        foreach (var (setting, key) in new[] { ("Fisher__Tls__Certificate", "silo.crt"), ("Fisher__Tls__Key", "silo.key"), ("Fisher__Tls__CA", "ca.crt") })
            SecretFile(c, pod, container, setting, key, v);

        // Memory: every task may take the budget; the process needs room beyond it.
        if (!long.TryParse(Manifests.Env(container, "Fisher__Grains__TasksPerSilo"), CultureInfo.InvariantCulture, out var tasks) ||
            !long.TryParse(Manifests.Env(container, "Fisher__Grains__MemoryBudget"), CultureInfo.InvariantCulture, out var budget))
            v.Add($"{c}: env Fisher__Grains__TasksPerSilo, Fisher__Grains__MemoryBudget: expected both, as numbers");
        else if (Quantity(container["resources"]?["limits"]?["memory"]) is not { } limit || limit < (tasks * budget) + (512L << 20))
            v.Add($"{c}: resources.limits.memory: expected at least TasksPerSilo x MemoryBudget ({tasks} x {budget}) + 512Mi");

        var annotations = template["metadata"]?["annotations"];
        if (S(annotations?["prometheus.io/scrape"]) != "true" || S(annotations?["prometheus.io/port"]) != http?.ToString(CultureInfo.InvariantCulture) || S(annotations?["prometheus.io/path"]) != "/metrics")
            v.Add($"{w}: pod template annotations prometheus.io/scrape, port, path: expected \"true\", the http port ({http}), /metrics");
        if (pod["topologySpreadConstraints"]?.AsArray().Any(t => S(t?["topologyKey"]) == "kubernetes.io/hostname" && Selects(t?["labelSelector"], labels)) != true)
            v.Add($"{w}: topologySpreadConstraints: expected one on kubernetes.io/hostname selecting the silos");
        if (overlay == Manifests.Prod && pod["topologySpreadConstraints"]?.AsArray().Any(t => S(t?["topologyKey"]) == "kubernetes.io/hostname" && S(t?["whenUnsatisfiable"]) == "DoNotSchedule") != true)
            v.Add($"{w}: topologySpreadConstraints: expected whenUnsatisfiable DoNotSchedule on kubernetes.io/hostname in prod");

        var budgets = objects.OfKind("PodDisruptionBudget").Where(p => Selects(p["spec"]?["selector"], labels)).ToList();
        if (budgets.Count == 0)
            v.Add($"PodDisruptionBudget: expected one selecting the silos ({w})");
        foreach (var p in budgets.Where(p => p["spec"]?["maxUnavailable"] is null && p["spec"]?["minAvailable"] is null))
            v.Add($"{Manifests.Describe(p)}: spec: expected maxUnavailable or minAvailable");

        if (objects.OfKind("ServiceMonitor").FirstOrDefault() is not { } monitor)
            v.Add("ServiceMonitor: expected one for the silos' /metrics");
        else if (!objects.OfKind("Service").Any(s => Selects(monitor["spec"]?["selector"], Labels(s)) && Selects(s["spec"]?["selector"], labels) && S(s["spec"]?["clusterIP"]) == "None")
            || monitor["spec"]?["endpoints"]?.AsArray().Any(e => S(e?["port"]) == "http" && S(e?["path"]) == "/metrics") != true)
            v.Add($"{Manifests.Describe(monitor)}: spec: expected a selector of the silos' headless Service and an endpoint on port http, path /metrics");
        if (objects.Find("ConfigMap", "fisher-dashboard") is null)
            v.Add("ConfigMap/fisher-dashboard: expected the Grafana dashboard");
    }

    /// <summary>The container's <paramref name="setting"/> names a file of the TLS secret, key <paramref name="key"/>, mounted read-only.</summary>
    private static void SecretFile(string c, JsonNode pod, JsonNode container, string setting, string key, List<string> v)
    {
        var path = Manifests.Env(container, setting);
        var folder = path is null ? null : Path.GetDirectoryName(path);
        if (path is null || folder is null || MountOf(pod, container, folder) is not { Volume: var volume, ReadOnly: true }
            || S(volume?["secret"]?["secretName"]) != TlsSecret
            || volume?["secret"]?["items"]?.AsArray().Any(i => S(i?["key"]) == key && S(i?["path"]) == Path.GetFileName(path)) != true)
            v.Add($"{c}: env {setting}: expected a file of secret {TlsSecret} (key {key}) mounted read-only");
    }

    /// <summary>A read-only persistent volume claim mounted read-only at exactly <paramref name="path"/>.</summary>
    private static void ReadOnlyClaim(string c, JsonNode pod, JsonNode container, string path, List<string> v)
    {
        var mount = container["volumeMounts"]?.AsArray().FirstOrDefault(m => S(m?["mountPath"]) == path);
        var volume = pod["volumes"]?.AsArray().FirstOrDefault(x => S(x?["name"]) == S(mount?["name"]));
        if (B(mount?["readOnly"]) != true || B(volume?["persistentVolumeClaim"]?["readOnly"]) != true)
            v.Add($"{c}: volumeMounts {path}: expected the dataset claim mounted readOnly (mount and persistentVolumeClaim.readOnly true)");
    }

    /// <summary>A Redis connection string in env <paramref name="name"/> whose password is $(REDIS_PASSWORD) from the secret.</summary>
    private static void PasswordFromSecret(string c, JsonNode container, string name, List<string> v)
    {
        if (Manifests.Env(container, name) is not { } connection || !connection.Contains("password=$(REDIS_PASSWORD)", StringComparison.Ordinal))
            v.Add($"{c}: env {name}: expected a Redis connection string with password=$(REDIS_PASSWORD)");
        RedisPassword(c, container, v);
    }

    private static void RedisPassword(string c, JsonNode container, List<string> v)
    {
        var reference = container["env"]?.AsArray().FirstOrDefault(e => S(e?["name"]) == "REDIS_PASSWORD")?["valueFrom"]?["secretKeyRef"];
        if (S(reference?["name"]) != RedisSecret || S(reference?["key"]) != "password")
            v.Add($"{c}: env REDIS_PASSWORD: expected valueFrom.secretKeyRef {RedisSecret}/password");
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

    // ---- network policies ----

    private static void NetworkPolicies(IReadOnlyList<JsonObject> objects, List<string> v)
    {
        var policies = objects.OfKind("NetworkPolicy").ToList();
        foreach (var p in policies)
        {
            foreach (var (direction, peers) in new[] { ("ingress", "from"), ("egress", "to") })
            {
                foreach (var rule in p["spec"]?[direction]?.AsArray() ?? [])
                {
                    if (rule?[peers] is not JsonArray { Count: > 0 } || rule["ports"] is not JsonArray { Count: > 0 })
                        v.Add($"{Manifests.Describe(p)}: spec.{direction}: expected every rule to name its peers ({peers}) and ports");
                }
            }
        }
        bool IsDefaultDeny(JsonObject p) => Types(p).Contains("Ingress") && Types(p).Contains("Egress") && p["spec"]?["ingress"] is null && p["spec"]?["egress"] is null;
        var templates = objects.PodTemplates().ToList();
        foreach (var (workload, template) in templates)
        {
            var labels = Labels(template);
            if (!policies.Any(p => IsDefaultDeny(p) && Selects(p["spec"]?["podSelector"], labels)))
                v.Add($"{Manifests.Describe(workload)}: pod template: expected a NetworkPolicy denying all ingress and egress to select it");
            if (!policies.Any(p => !IsDefaultDeny(p) && Selects(p["spec"]?["podSelector"], labels)))
                v.Add($"{Manifests.Describe(workload)}: pod template: expected a NetworkPolicy admitting what it needs to select it");
        }

        JsonObject? TemplateOf(string kind, string name) => objects.Find(kind, name)?["spec"]?["template"] as JsonObject;
        var silo = TemplateOf("Deployment", SiloWorkload);
        var redis = TemplateOf("StatefulSet", RedisWorkload);
        var job = objects.OfKind("Job").Select(j => j["spec"]?["template"] as JsonObject).FirstOrDefault();
        foreach (var (from, fromName, to, toName, port) in new[]
        {
            (silo, "silos", silo, "silos", "silo"), (job, "the job", silo, "silos", "gateway"),
            (silo, "silos", redis, "Redis", "redis"), (job, "the job", redis, "Redis", "redis"),
        })
        {
            if (from is null || to is null)
                continue;
            var number = PortNumber(to, port);
            if (!policies.Any(p => Types(p).Contains("Ingress") && Selects(p["spec"]?["podSelector"], Labels(to)) && Admits(p["spec"]?["ingress"], "from", Labels(from), port, number)))
                v.Add($"NetworkPolicy: expected one admitting ingress from {fromName} to {toName} on port {port}");
            if (!policies.Any(p => Types(p).Contains("Egress") && Selects(p["spec"]?["podSelector"], Labels(from)) && Admits(p["spec"]?["egress"], "to", Labels(to), port, number)))
                v.Add($"NetworkPolicy: expected one admitting egress from {fromName} to {toName} on port {port}");
        }
        foreach (var (template, name) in new[] { (silo, "silos"), (job, "the job") })
        {
            if (template is not null && !policies.Any(p => Types(p).Contains("Egress") && Selects(p["spec"]?["podSelector"], Labels(template))
                    && p["spec"]?["egress"]?.AsArray().Any(r => r?["ports"]?.AsArray().Any(x => x?["port"]?.ToString() == "53" && S(x?["protocol"]) == "UDP") == true) == true))
                v.Add($"NetworkPolicy: expected one admitting DNS (port 53/UDP) egress from {name}");
        }
        if (silo is not null && !policies.Any(p => Selects(p["spec"]?["podSelector"], Labels(silo)) && p["spec"]?["ingress"]?.AsArray().Any(r =>
                r?["from"]?.AsArray().Any(f => f?["namespaceSelector"] is not null) == true && r["ports"]?.AsArray().Any(x => S(x?["port"]) == "http" || x?["port"]?.ToString() == PortNumber(silo, "http")?.ToString(CultureInfo.InvariantCulture)) == true) == true))
            v.Add("NetworkPolicy: expected one admitting Prometheus (another namespace) to the silos' port http");
        OnlyNeededFlows(policies, silo, redis, job, v);
    }

    /// <summary>The flows the app needs: (direction, pods the policy selects, peer, port name or number); nothing else may be admitted.</summary>
    private static readonly HashSet<(string, string, string, string)> NeededFlows =
    [
        ("ingress", "silos", "silos", "silo"), ("ingress", "silos", "clients", "gateway"), ("ingress", "silos", "Prometheus", "http"),
        ("ingress", "Redis", "silos", "redis"), ("ingress", "Redis", "clients", "redis"),
        ("egress", "silos", "silos", "silo"), ("egress", "silos", "Redis", "redis"), ("egress", "silos", "DNS", "53"),
        ("egress", "clients", "Redis", "redis"), ("egress", "clients", "silos", "gateway"), ("egress", "clients", "DNS", "53"),
    ];

    /// <summary>Every rule of every policy admits only <see cref="NeededFlows"/>: each peer is one of the app's kinds of pod, Prometheus or DNS, each port named.</summary>
    private static void OnlyNeededFlows(List<JsonObject> policies, JsonObject? silo, JsonObject? redis, JsonObject? job, List<string> v)
    {
        var kinds = new[] { ("silos", silo), ("Redis", redis), ("clients", job) }.Where(k => k.Item2 is not null).Select(k => (Name: k.Item1, Template: k.Item2!)).ToList();
        string Peer(JsonNode? peer)
        {
            var pods = peer?["podSelector"];
            var namespaces = peer?["namespaceSelector"];
            if (peer?["ipBlock"] is not null || pods is not JsonObject p || (p["matchLabels"] as JsonObject)?.Count is null or 0)
                return "anything (an address block or every pod)";
            if (namespaces is null)
            {
                var matched = kinds.Where(k => Selects(pods, Labels(k.Template))).Select(k => k.Name).ToList();
                return matched.Count == 1 ? matched[0] : matched.Count == 0 ? "pods of no kind of this app" : $"several kinds of pod ({string.Join(", ", matched)})";
            }
            if (S(pods["matchLabels"]?["k8s-app"]) == "kube-dns")
                return "DNS";
            if (S(pods["matchLabels"]?["app.kubernetes.io/name"]) == "prometheus" && (namespaces["matchLabels"] as JsonObject)?.Count > 0)
                return "Prometheus";
            return "pods of other namespaces";
        }
        string PortName(JsonNode? port, JsonObject? destination) =>
            S(port?["port"]) ?? (destination is not null && L(port?["port"]) is { } n
                ? Containers(destination["spec"]!).SelectMany(c => c["ports"]?.AsArray() ?? []).Where(x => L(x?["containerPort"]) == n).Select(x => S(x?["name"])).FirstOrDefault() ?? n.ToString(CultureInfo.InvariantCulture)
                : port?["port"]?.ToString() ?? "every port");
        foreach (var policy in policies)
        {
            foreach (var selected in kinds.Where(k => Selects(policy["spec"]?["podSelector"], Labels(k.Template))))
            {
                foreach (var (direction, peers) in new[] { ("ingress", "from"), ("egress", "to") })
                {
                    foreach (var rule in policy["spec"]?[direction]?.AsArray() ?? [])
                    {
                        foreach (var peer in rule?[peers]?.AsArray() ?? [])
                        {
                            var other = Peer(peer);
                            var destination = direction == "ingress" ? selected.Template : kinds.FirstOrDefault(k => k.Name == other).Template;
                            foreach (var port in rule?["ports"]?.AsArray() ?? [])
                            {
                                var name = PortName(port, destination);
                                if (!NeededFlows.Contains((direction, selected.Name, other, name)))
                                    v.Add($"{Manifests.Describe(policy)}: spec.{direction}: admits {(direction == "ingress" ? $"{other} to {selected.Name}" : $"{selected.Name} to {other}")} on port {name}, which the app does not need");
                            }
                        }
                    }
                }
            }
        }
    }

    private static List<string> Types(JsonObject policy) => policy["spec"]?["policyTypes"]?.AsArray().Select(t => S(t) ?? "").ToList() ?? ["Ingress"];

    /// <summary>A rule of <paramref name="rules"/> lets pods labelled <paramref name="peer"/> (same namespace) through on the port.</summary>
    private static bool Admits(JsonNode? rules, string peers, Dictionary<string, string> peer, string portName, int? portNumber) =>
        rules?.AsArray().Any(r =>
            r?[peers]?.AsArray().Any(x => x?["namespaceSelector"] is null && x?["ipBlock"] is null && Selects(x?["podSelector"], peer)) == true
            && r["ports"]?.AsArray().Any(x => S(x?["port"]) == portName || (portNumber is { } n && x?["port"]?.ToString() == n.ToString(CultureInfo.InvariantCulture))) == true) == true;

    private static int? PortNumber(JsonObject template, string name) =>
        (int?)L(Containers(template["spec"]!).SelectMany(c => c["ports"]?.AsArray() ?? []).FirstOrDefault(p => S(p?["name"]) == name)?["containerPort"]);

    // ---- Redis ----

    private static void Redis(string overlay, IReadOnlyList<JsonObject> objects, List<string> v)
    {
        if (objects.Find("StatefulSet", RedisWorkload) is not { } redis)
        {
            v.Add($"StatefulSet/{RedisWorkload}: missing");
            return;
        }
        var w = Manifests.Describe(redis);
        var pod = redis["spec"]!["template"]!["spec"]!;
        var container = Containers(pod).FirstOrDefault();
        if (container is null)
            return;
        RedisPassword($"{w}: container {S(container["name"])}", container, v);
        var args = container["args"]?.AsArray().Select(a => S(a)).ToList() ?? [];
        var at = args.IndexOf("--requirepass");
        if (at < 0 || at + 1 >= args.Count || args[at + 1] != "$(REDIS_PASSWORD)")
            v.Add($"{w}: args: expected --requirepass $(REDIS_PASSWORD)");
        var configFile = args.FirstOrDefault(a => a?.EndsWith(".conf", StringComparison.Ordinal) == true);
        var configMount = configFile is null ? null : MountOf(pod, container, Path.GetDirectoryName(configFile)!);
        var configMap = S(configMount?.Volume?["configMap"]?["name"]) is { } mapName ? objects.OfKind("ConfigMap").FirstOrDefault(m => S(m["metadata"]?["name"]) == mapName) : null;
        var text = S(configMap?["data"]?[Path.GetFileName(configFile ?? "")]);
        if (text is null)
        {
            v.Add($"{w}: args: expected a redis.conf from a mounted ConfigMap as the first argument");
            return;
        }
        var config = text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(' ', 2)).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last().Length > 1 ? g.Last()[1] : "");
        var c = $"{Manifests.Describe(configMap!)}: redis.conf";
        var dir = config.GetValueOrDefault("dir");
        var dataMount = dir is null ? null : MountOf(pod, container, dir);
        var claims = redis["spec"]?["volumeClaimTemplates"]?.AsArray() ?? [];
        var onClaim = dataMount is { Volume: null } && claims.Any(t => S(t?["metadata"]?["name"]) == dataMount.Name);
        if (overlay == Manifests.Prod)
        {
            if (config.GetValueOrDefault("appendonly") != "yes")
                v.Add($"{c}: appendonly: expected yes in prod");
            if (!onClaim)
                v.Add($"{w}: the redis.conf dir ({dir}): expected a volumeClaimTemplates volume mounted there in prod");
        }
        else
        {
            if (config.GetValueOrDefault("appendonly") != "no" || config.GetValueOrDefault("save") != "\"\"")
                v.Add($"{c}: appendonly, save: expected no and \"\" (no persistence) in {overlay}");
            if (claims.Count > 0 || onClaim)
                v.Add($"{w}: spec.volumeClaimTemplates: expected none in {overlay}");
        }
    }

    // ---- the job ----

    private static void Job(IReadOnlyList<JsonObject> objects, List<string> v)
    {
        var silo = objects.Find("Deployment", SiloWorkload);
        var siloContainer = silo is null ? null : Containers(silo["spec"]!["template"]!["spec"]!).FirstOrDefault(c => S(c["name"]) == SiloContainer);
        var dataRoot = siloContainer is null ? null : Manifests.Env(siloContainer, "Fisher__Grains__DataRoots__0");
        foreach (var job in objects.OfKind("Job"))
        {
            var w = Manifests.Describe(job);
            var pod = job["spec"]?["template"]?["spec"];
            if (S(pod?["restartPolicy"]) is not ("Never" or "OnFailure"))
                v.Add($"{w}: spec.template.spec.restartPolicy: expected Never or OnFailure");
            if (L(job["spec"]?["backoffLimit"]) is not (>= 1 and <= 10))
                v.Add($"{w}: spec.backoffLimit: expected 1 to 10");
            foreach (var container in pod is null ? [] : Containers(pod))
            {
                var c = $"{w}: container {S(container["name"])}";
                RedisPassword(c, container, v);
                if (dataRoot is not null)
                    ReadOnlyClaim(c, pod!, container, dataRoot, v);
                foreach (var (setting, key) in new[] { ("FISHER_TLS_CERT", "client.crt"), ("FISHER_TLS_KEY", "client.key"), ("FISHER_TLS_CA", "ca.crt") })
                    SecretFile(c, pod!, container, setting, key, v);
                var args = container["args"]?.AsArray().Select(a => S(a) ?? "").ToList() ?? [];
                string? Option(string name) => args.IndexOf(name) is var i and >= 0 && i + 1 < args.Count ? args[i + 1] : null;
                if (Option("--job-id") is null || Option("--cluster") is null)
                    v.Add($"{c}: args: expected --cluster and a fixed --job-id (a retried pod re-attaches to the job)");
                foreach (var (what, path) in new[] { ("--out", Option("--out")), ("env XDG_CONFIG_HOME (the saved token)", Manifests.Env(container, "XDG_CONFIG_HOME")) })
                {
                    if (path is null || MountOf(pod!, container, path) is not { ReadOnly: false, Volume: var volume } || volume?["persistentVolumeClaim"] is null)
                        v.Add($"{c}: {what}: expected a path on a writable persistent volume claim");
                }
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

    private sealed record Mount(string Name, JsonNode? Volume, bool ReadOnly);

    /// <summary>The mount of <paramref name="container"/> whose path is <paramref name="path"/> or holds it, and its pod volume (null for a claim template).</summary>
    private static Mount? MountOf(JsonNode pod, JsonNode container, string path)
    {
        var mount = (container["volumeMounts"]?.AsArray() ?? []).OfType<JsonNode>()
            .Where(m => S(m["mountPath"]) is { } p && (path == p || path.StartsWith(p.TrimEnd('/') + "/", StringComparison.Ordinal)))
            .MaxBy(m => S(m["mountPath"])!.Length);
        if (mount is null)
            return null;
        var name = S(mount["name"]) ?? "";
        return new Mount(name, pod["volumes"]?.AsArray().FirstOrDefault(x => S(x?["name"]) == name), B(mount["readOnly"]) == true);
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
