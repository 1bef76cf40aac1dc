using System.Globalization;
using System.Text.Json.Nodes;

namespace Fisher.Deploy.Tests;

/// <summary>The silos: settings, probes, stopping, dataset, memory, monitoring, disruption budget and spreading.</summary>
public static partial class ManifestPolicy
{
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
        if (Manifests.Env(container, "Fisher__SiloName") != "$(POD_NAME)")
            v.Add($"{c}: env Fisher__SiloName: expected $(POD_NAME) (the silo named after its pod)");
        if (Manifests.Env(container, "Fisher__Health__LiveFromAnyAddress") != "true")
            v.Add($"{c}: env Fisher__Health__LiveFromAnyAddress: expected \"true\" (the kubelet's liveness probe comes from the node)");
        PasswordFromSecret(c, container, "Fisher__Redis", v);

        foreach (var (probe, path) in new[] { ("startupProbe", "/health/startup"), ("readinessProbe", "/health/ready"), ("livenessProbe", "/health/live") })
        {
            var get = container[probe]?["httpGet"];
            if (S(get?["path"]) != path || S(get?["port"]) != "http")
                v.Add($"{c}: {probe}: expected httpGet {path} on port http");
        }

        // Stopping: the silo's bound (Fisher:Health:ShutdownTimeout) includes the drain delay and the hand-back of its
        // tasks; the kubelet must wait longer.
        var grace = L(pod["terminationGracePeriodSeconds"]) ?? 30;
        if (!TimeSpan.TryParse(Manifests.Env(container, "Fisher__Health__ShutdownTimeout"), CultureInfo.InvariantCulture, out var shutdown))
            v.Add($"{c}: env Fisher__Health__ShutdownTimeout: expected the silo's bound on stopping (hh:mm:ss)");
        else if (grace <= shutdown.TotalSeconds)
            v.Add($"{w}: terminationGracePeriodSeconds: expected more than the silo's Fisher__Health__ShutdownTimeout ({shutdown}), got {grace}");
        var drain = TimeSpan.TryParse(Manifests.Env(container, "Fisher__Health__DrainDelay") ?? "00:00:01", CultureInfo.InvariantCulture, out var d) ? d : TimeSpan.MaxValue;
        var handBack = TimeSpan.TryParse(Manifests.Env(container, "Fisher__Grains__HandBackTimeout") ?? "00:00:10", CultureInfo.InvariantCulture, out var h) ? h : TimeSpan.MaxValue;
        if (drain + handBack >= shutdown)
            v.Add($"{c}: env Fisher__Health__DrainDelay + Fisher__Grains__HandBackTimeout: expected less than Fisher__Health__ShutdownTimeout ({shutdown})");

        // The dataset: read-only at the data root the silo is given.
        if (Manifests.Env(container, "Fisher__Grains__DataRoots__0") is not { } root)
            v.Add($"{c}: env Fisher__Grains__DataRoots__0: expected the dataset's mount path");
        else
            ReadOnlyClaim(c, pod, container, root, v);
        // Inside the volume, not its root: an emptyDir's root is writable by all, and the silo refuses such a cache folder.
        if (Manifests.Env(container, "FISHER_CACHE_DIR") is not { } cache || MountOf(pod, container, cache) is not { Volume: var cacheVolume, ReadOnly: false, Path: var cacheMount }
            || cacheVolume?["emptyDir"] is null || cacheMount.TrimEnd('/') == cache.TrimEnd('/'))
            v.Add($"{c}: env FISHER_CACHE_DIR: expected a folder inside a writable emptyDir (not its root: the silo refuses a folder others can write to)");
        foreach (var (setting, key) in new[] { ("Fisher__Tls__Certificate", "silo.crt"), ("Fisher__Tls__Key", "silo.key"), ("Fisher__Tls__CA", "ca.crt") })
            SecretFile(c, pod, container, setting, key, v);

        // Memory: every task may take the budget; the process needs room beyond it.
        if (!long.TryParse(Manifests.Env(container, "Fisher__Grains__TasksPerSilo"), CultureInfo.InvariantCulture, out var tasks) ||
            !long.TryParse(Manifests.Env(container, "Fisher__Grains__MemoryBudget"), CultureInfo.InvariantCulture, out var budget))
            v.Add($"{c}: env Fisher__Grains__TasksPerSilo, Fisher__Grains__MemoryBudget: expected both, as numbers");
        else if (Quantity(container["resources"]?["limits"]?["memory"]) is not { } limit || limit < (tasks * budget) + (512L << 20))
            v.Add($"{c}: resources.limits.memory: expected at least TasksPerSilo x MemoryBudget ({tasks} x {budget}) + 512Mi");

        // Tensor threads follow the CPU request: without a CPU limit .NET counts every core of the node.
        var cpu = S(container["resources"]?["requests"]?["cpu"]) ?? container["resources"]?["requests"]?["cpu"]?.ToString();
        var cores = cpu is null ? (double?)null : cpu.EndsWith('m') && double.TryParse(cpu[..^1], CultureInfo.InvariantCulture, out var milli) ? milli / 1000
            : double.TryParse(cpu, CultureInfo.InvariantCulture, out var whole) ? whole : null;
        if (!int.TryParse(Manifests.Env(container, "Fisher__Grains__ComputeThreadCount"), CultureInfo.InvariantCulture, out var threads) || cores is null || threads != Math.Max(1, (int)Math.Round(cores.Value)))
            v.Add($"{c}: env Fisher__Grains__ComputeThreadCount: expected the CPU request in whole cores ({cpu})");
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
}
