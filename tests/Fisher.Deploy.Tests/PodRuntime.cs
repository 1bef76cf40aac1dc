using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Fisher.Deploy.Tests;

/// <summary>
/// Runs containers of rendered Kubernetes workloads as local processes, the way a kubelet would start them, so a test
/// can check the manifests' environment, arguments, ports and volumes against the real programs without a cluster
/// ("pods as processes"). A pod is a process with its own loopback address as its pod IP (so pods share port numbers
/// as they do on a cluster); a Service name resolves to the address of the first pod its selector picks; a volume
/// mount is a local folder (secrets and config maps written as files, emptyDir and claims as folders), and every mount
/// path in an environment value, an argument or a mounted config file is rewritten to that folder. The program of a
/// container (its <c>command[0]</c>, or <c>args[0]</c> without a command) is looked up in <see cref="Programs"/>.
/// Kubernetes' rules kept: env in order with <c>$(VAR)</c> expansion of earlier variables (<c>$$</c> escapes, an
/// unknown reference stays as written), <c>fieldRef</c> (metadata.name, metadata.namespace, status.podIP,
/// metadata.labels[...]), <c>secretKeyRef</c>, <c>configMapKeyRef</c>, <c>envFrom</c>; args expanded the same way.
/// </summary>
internal sealed partial class PodRuntime(IReadOnlyList<JsonObject> objects, string scratch) : IDisposable
{
    private readonly Dictionary<string, Dictionary<string, byte[]>> _secrets = [];
    private readonly Dictionary<string, string> _claims = [];
    private readonly Dictionary<string, IPAddress> _services = [];
    private readonly List<TestProcess> _processes = [];
    private int _pods;

    /// <summary>Container programs (image paths such as <c>/opt/fisher/Fisher.Silo</c>, or names such as <c>redis-server</c>) to local files.</summary>
    public Dictionary<string, string> Programs { get; } = [];

    /// <summary>A Secret object (as <c>kubectl create secret ... -o yaml</c> makes it: the operator creates it; the manifests only name it).</summary>
    public void AddSecret(JsonObject secret)
    {
        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var (key, value) in secret["data"] as JsonObject ?? [])
            data[key] = Convert.FromBase64String((string)value!);
        foreach (var (key, value) in secret["stringData"] as JsonObject ?? [])
            data[key] = Encoding.UTF8.GetBytes((string)value!);
        _secrets[(string)secret["metadata"]!["name"]!] = data;
    }

    /// <summary>The local folder a PersistentVolumeClaim stands for (claims not given get an empty folder of their own).</summary>
    public void AddClaim(string claimName, string folder) => _claims[claimName] = folder;

    /// <summary>A distinct loopback address for the next pod: 127.R.R.n with R from the process id, so parallel runs differ.</summary>
    public IPAddress NextPodIp()
    {
        int n = Interlocked.Increment(ref _pods);
        int r = Environment.ProcessId;
        return new IPAddress([127, (byte)(1 + r % 250), (byte)(r / 250 % 250), (byte)(10 + n)]);
    }

    /// <summary>Starts container <paramref name="containerName"/> of pod <paramref name="ordinal"/> of <paramref name="workload"/> at <paramref name="podIp"/>.</summary>
    /// <param name="extraArgs">Arguments after the container's own (only what stands for the pod's network namespace: a bind address).</param>
    public Pod Start(JsonObject workload, string containerName, int ordinal, IPAddress podIp, IEnumerable<string>? extraArgs = null)
    {
        string kind = (string)workload["kind"]!, name = (string)workload["metadata"]!["name"]!;
        string ns = (string?)workload["metadata"]!["namespace"] ?? "default";
        string podName = $"{name}-{ordinal.ToString(CultureInfo.InvariantCulture)}";
        var labels = new Dictionary<string, string>(workload.PodLabels());
        if (kind == "Job")
        {
            labels["job-name"] = name; // what the Job controller adds to its pods
            labels["batch.kubernetes.io/job-name"] = name;
        }
        var container = workload.Container(containerName);
        var podFolder = Directory.CreateDirectory(Path.Combine(scratch, podName)).FullName;
        var mounts = Mounts(workload, container, podFolder);

        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var from in container["envFrom"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            var prefix = (string?)from["prefix"] ?? "";
            if (from["configMapRef"]?["name"] is { } cm)
                foreach (var (k, v) in ConfigMapData((string)cm!))
                    env[prefix + k] = v;
            if (from["secretRef"]?["name"] is { } s)
                foreach (var (k, v) in Secret((string)s!))
                    env[prefix + k] = Encoding.UTF8.GetString(v);
        }
        foreach (var variable in container["env"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            var key = (string)variable["name"]!;
            string value;
            if (variable["valueFrom"] is JsonObject from)
            {
                if (from["fieldRef"]?["fieldPath"] is { } field)
                    value = Field((string)field!, podName, ns, podIp, labels);
                else if (from["secretKeyRef"] is JsonObject sk)
                    value = Encoding.UTF8.GetString(Secret((string)sk["name"]!)[(string)sk["key"]!]);
                else if (from["configMapKeyRef"] is JsonObject ck)
                    value = ConfigMapData((string)ck["name"]!)[(string)ck["key"]!];
                else
                    throw new InvalidOperationException($"{Manifests.Describe(workload)}: env {key}: unsupported valueFrom {from.ToJsonString()}");
            }
            else
            {
                value = Expand((string?)variable["value"] ?? "", env);
            }
            env[key] = Rewrite(value, mounts);
        }

        var command = (container["command"]?.AsArray() ?? []).Select(a => (string)a!).ToList();
        var args = (container["args"]?.AsArray() ?? []).Select(a => (string)a!).ToList();
        var line = command.Concat(args).Select(a => Rewrite(Expand(a, env), mounts)).ToList();
        Assert.True(line.Count > 0, $"{Manifests.Describe(workload)} container {containerName}: no command or args");
        var program = Programs.TryGetValue(line[0], out var local) ? local
            : throw new InvalidOperationException($"{Manifests.Describe(workload)} container {containerName} runs {line[0]}, which has no local program (known: {string.Join(", ", Programs.Keys)})");

        // The process gets the container's environment over the test's (minus every Fisher setting the test process may carry).
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var inherited in Environment.GetEnvironmentVariables().Keys.Cast<string>())
        {
            if (inherited.StartsWith("Fisher__", StringComparison.OrdinalIgnoreCase) || inherited.StartsWith("FISHER_", StringComparison.Ordinal))
                environment[inherited] = null;
        }
        foreach (var (k, v) in env)
            environment[k] = v;
        var process = TestProcess.Start(program, line.Skip(1).Concat(extraArgs ?? []), podFolder, environment);
        _processes.Add(process);

        // Services whose selector picks this pod now resolve to it.
        foreach (var service in objects.Where(o => (string?)o["kind"] == "Service"))
        {
            var selector = (service["spec"]?["selector"] as JsonObject)?.ToDictionary(p => p.Key, p => (string?)p.Value);
            var serviceName = (string)service["metadata"]!["name"]!;
            if (selector is { Count: > 0 } && selector.All(p => labels.GetValueOrDefault(p.Key) == p.Value))
                _services.TryAdd(serviceName, podIp);
        }
        return new Pod(podName, podIp, process, env, line.Skip(1).ToArray(), mounts, container);
    }

    /// <summary>A started pod: its name, address, process, environment and arguments (as given to the process) and mounts (container path to local folder).</summary>
    public sealed record Pod(string Name, IPAddress Ip, TestProcess Process, IReadOnlyDictionary<string, string> Env, IReadOnlyList<string> Args,
        IReadOnlyDictionary<string, string> Mounts, JsonObject Container)
    {
        /// <summary>The value after <paramref name="option"/> in the arguments.</summary>
        public string Option(string option)
        {
            int i = Args.ToList().IndexOf(option);
            return i >= 0 && i + 1 < Args.Count ? Args[i + 1] : throw new InvalidOperationException($"{Name}: no {option} among the arguments {string.Join(' ', Args)}");
        }

        /// <summary>The container port named <paramref name="name"/>.</summary>
        public int Port(string name) =>
            (int?)Container["ports"]?.AsArray().OfType<JsonObject>().SingleOrDefault(p => (string?)p["name"] == name)?["containerPort"]
            ?? throw new InvalidOperationException($"container {(string?)Container["name"]} has no port named {name}");
    }

    /// <summary>Folders for the container's volume mounts, keyed by mount path.</summary>
    private Dictionary<string, string> Mounts(JsonObject workload, JsonObject container, string podFolder)
    {
        var volumes = (workload.PodSpec()["volumes"]?.AsArray().OfType<JsonObject>() ?? []).ToDictionary(v => (string)v["name"]!);
        var templates = (workload["spec"]?["volumeClaimTemplates"]?.AsArray().OfType<JsonObject>() ?? []).Select(t => (string)t["metadata"]!["name"]!).ToHashSet();
        var mounts = new Dictionary<string, string>(StringComparer.Ordinal);
        var pending = new List<(string Path, JsonObject? ConfigMap, string Folder)>();
        foreach (var mount in container["volumeMounts"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            string volumeName = (string)mount["name"]!, mountPath = (string)mount["mountPath"]!;
            var folder = Path.Combine(podFolder, "volumes", volumeName);
            JsonObject? configMap = null;
            if (volumes.TryGetValue(volumeName, out var volume))
            {
                if (volume["persistentVolumeClaim"]?["claimName"] is { } claim)
                    folder = _claims.TryGetValue((string)claim!, out var given) ? given : Path.Combine(scratch, "claims", (string)claim!);
                else if (volume["secret"] is JsonObject secret)
                    WriteFiles(folder, Secret((string)secret["secretName"]!), secret["items"] as JsonArray);
                else if (volume["configMap"] is JsonObject cm)
                    configMap = cm;
                else if (volume["emptyDir"] is null)
                    throw new InvalidOperationException($"{Manifests.Describe(workload)}: volume {volumeName}: unsupported source {volume.ToJsonString()}");
            }
            else if (!templates.Contains(volumeName))
            {
                throw new InvalidOperationException($"{Manifests.Describe(workload)}: volumeMount {volumeName} names no volume or claim template");
            }
            Directory.CreateDirectory(folder);
            var local = mount["subPath"] is { } sub ? Path.Combine(folder, (string)sub!) : folder;
            mounts[mountPath] = local;
            pending.Add((mountPath, configMap, folder));
        }
        // Config files may name mount paths (redis.conf's dir): written once every mount is known, rewritten like args.
        foreach (var (_, configMap, folder) in pending)
        {
            if (configMap is null)
                continue;
            var data = ConfigMapData((string)configMap["name"]!).ToDictionary(p => p.Key, p => Encoding.UTF8.GetBytes(Rewrite(p.Value, mounts)));
            WriteFiles(folder, data, configMap["items"] as JsonArray);
        }
        return mounts;
    }

    private static void WriteFiles(string folder, IReadOnlyDictionary<string, byte[]> data, JsonArray? items)
    {
        Directory.CreateDirectory(folder);
        var selected = items is null
            ? data.Select(p => (p.Key, p.Key))
            : items.OfType<JsonObject>().Select(i => ((string)i["key"]!, (string)i["path"]!));
        foreach (var (key, path) in selected)
        {
            var file = Path.Combine(folder, path);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllBytes(file, data.TryGetValue(key, out var bytes) ? bytes : throw new InvalidOperationException($"no key {key} for {folder}"));
            if (!OperatingSystem.IsWindows())
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    private Dictionary<string, byte[]> Secret(string name) =>
        _secrets.TryGetValue(name, out var data) ? data : throw new InvalidOperationException($"the test gave no secret {name} (the manifests expect the operator to create it)");

    private Dictionary<string, string> ConfigMapData(string name)
    {
        var map = objects.OfKind("ConfigMap").SingleOrDefault(o => (string?)o["metadata"]?["name"] == name)
            ?? throw new InvalidOperationException($"no ConfigMap named {name} among the rendered objects");
        return (map["data"] as JsonObject)?.ToDictionary(p => p.Key, p => (string?)p.Value ?? "") ?? [];
    }

    private static string Field(string path, string podName, string ns, IPAddress ip, IReadOnlyDictionary<string, string> labels)
    {
        if (LabelField().Match(path) is { Success: true } m)
            return labels.GetValueOrDefault(m.Groups[1].Value) ?? "";
        return path switch
        {
            "metadata.name" => podName,
            "metadata.namespace" => ns,
            "status.podIP" or "status.hostIP" => ip.ToString(),
            "status.podIPs" => ip.ToString(),
            _ => throw new InvalidOperationException($"unsupported fieldRef {path}"),
        };
    }

    [GeneratedRegex(@"^metadata\.labels\['([^']+)'\]$")]
    private static partial Regex LabelField();

    /// <summary>Kubernetes' <c>$(VAR)</c> expansion: defined variables replaced, <c>$$</c> an escaped <c>$</c>, anything else as written.</summary>
    public static string Expand(string value, IReadOnlyDictionary<string, string> env) =>
        Reference().Replace(value, m => m.Value == "$$" ? "$" : env.TryGetValue(m.Groups[1].Value, out var v) ? v : m.Value);

    [GeneratedRegex(@"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")]
    private static partial Regex Reference();

    /// <summary>Container paths under a mount, and Service host names, rewritten to local folders and pod addresses.</summary>
    private string Rewrite(string value, IReadOnlyDictionary<string, string> mounts)
    {
        value = MapPaths(value, mounts);
        foreach (var (service, ip) in _services)
        {
            // service, service.namespace, service.namespace.svc, service.namespace.svc.cluster.local as a host name
            value = Regex.Replace(value, $@"(?<![\w.-]){Regex.Escape(service)}(\.[a-z0-9-]+(\.svc(\.cluster\.local)?)?)?(?=[:/,\s]|$)", ip.ToString());
        }
        return value;
    }

    /// <summary>Container paths under one of <paramref name="mounts"/> (mount path to local folder) rewritten to the local folder.</summary>
    public static string MapPaths(string value, IReadOnlyDictionary<string, string> mounts)
    {
        if (mounts.Count == 0)
            return value;
        // One pass, longest mount path first: a local folder (under /tmp, say) is never rewritten again.
        var byPath = mounts.ToDictionary(m => m.Key.TrimEnd('/'), m => m.Value, StringComparer.Ordinal);
        var alternatives = string.Join('|', byPath.Keys.OrderByDescending(k => k.Length).Select(Regex.Escape));
        return Regex.Replace(value, $@"(?<![\w./-])({alternatives})(?=/|$|[^\w.-])", m => byPath[m.Groups[1].Value]);
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            process.Kill();
            process.Dispose();
        }
    }
}
