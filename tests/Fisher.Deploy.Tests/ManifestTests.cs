using System.Diagnostics;
using System.Text.Json.Nodes;
using Fisher.EndToEnd.Tests;

namespace Fisher.Deploy.Tests;

/// <summary>
/// Issue 15, acceptance 2: both overlays render with kubectl kustomize, every object (and the job manifest's) validates
/// against the Kubernetes OpenAPI schemas of a current release with no unknown field, and the policy of
/// <see cref="ManifestPolicy"/> holds. Each check is also shown to fail on a broken copy.
/// </summary>
public sealed class ManifestTests
{
    private static readonly Dictionary<string, Lazy<IReadOnlyList<JsonObject>>> Rendered = new()
    {
        [Manifests.Dev] = new(() => Manifests.Overlay(Manifests.Dev)),
        [Manifests.Prod] = new(() => Manifests.Overlay(Manifests.Prod)),
        ["job"] = new(Manifests.Job),
    };

    /// <summary>A fresh copy of what <paramref name="source"/> renders to (tests may change it).</summary>
    private static List<JsonObject> Render(string source) => Rendered[source].Value.Select(o => (JsonObject)o.DeepClone()).ToList();

    private static List<JsonObject> WithJob(string overlay) => [.. Render(overlay), .. Render("job")];

    [Theory]
    [InlineData(Manifests.Dev)]
    [InlineData(Manifests.Prod)]
    public void Each_overlay_renders_the_whole_deployment(string overlay)
    {
        var objects = Render(overlay);
        foreach (var (kind, name) in new[]
        {
            ("Namespace", "fisher"), ("ServiceAccount", "fisher"), ("Deployment", "fisher-silo"), ("Service", "fisher-silo"),
            ("PodDisruptionBudget", "fisher-silo"), ("ServiceMonitor", "fisher-silo"), ("StatefulSet", "fisher-redis"),
            ("Service", "fisher-redis"), ("ConfigMap", "fisher-redis"), ("ConfigMap", "fisher-dashboard"),
            ("PersistentVolumeClaim", "fisher-data"), ("NetworkPolicy", "fisher-default-deny"),
        })
            Assert.True(objects.Find(kind, name) is not null, $"overlays/{overlay}: expected {kind}/{name} in the rendered objects");
        Assert.All(objects.Where(o => o["kind"]?.GetValue<string>() != "Namespace"), o =>
            Assert.True(o["metadata"]?["namespace"]?.GetValue<string>() == "fisher", $"overlays/{overlay}: {Manifests.Describe(o)}: metadata.namespace: expected fisher"));
        var job = Render("job");
        Assert.NotNull(job.Find("Job", "fisher-estimate"));
        Assert.All(job, o => Assert.True(o["metadata"]?["namespace"]?.GetValue<string>() == "fisher", $"job/estimate.yaml: {Manifests.Describe(o)}: metadata.namespace: expected fisher, the overlays' namespace"));
    }

    [Theory]
    [InlineData(Manifests.Dev)]
    [InlineData(Manifests.Prod)]
    [InlineData("job")]
    public async Task Every_rendered_object_validates_against_the_Kubernetes_schemas(string source)
    {
        var objects = Render(source);
        var problems = await KubernetesSchemas.Problems(objects);
        Assert.True(problems.Count == 0, $"{source}: {problems.Count} schema problems:\n{string.Join('\n', problems)}");
    }

    [Fact]
    public async Task The_schema_check_rejects_a_wrong_type_an_unknown_field_and_a_missing_required_field()
    {
        var objects = Render(Manifests.Prod);
        var silo = objects.Find("Deployment", "fisher-silo")!;
        var spec = silo["spec"]!.AsObject();
        spec["replicas"] = "3";
        spec.Remove("selector");
        var container = spec["template"]!["spec"]!["containers"]![0]!.AsObject();
        var probe = container["readinessProbe"]!;
        container.Remove("readinessProbe");
        container["readinesProbe"] = probe;
        objects.Find("ServiceMonitor", "fisher-silo")!["spec"]!["endpoints"]![0]!["intervall"] = "15s";
        objects.Find("NetworkPolicy", "fisher-redis")!["spec"]!["ingress"]![0]!["form"] = new JsonArray();

        var problems = await KubernetesSchemas.Problems(objects);

        string[] expected =
        [
            "Deployment/fisher-silo: /spec/replicas: must be integer",
            "Deployment/fisher-silo: /spec: must have required property",
            "Deployment/fisher-silo: /spec/template/spec/containers/0/readinesProbe: unknown field",
            "ServiceMonitor/fisher-silo: /spec/endpoints/0/intervall: unknown field",
            "NetworkPolicy/fisher-redis: /spec/ingress/0/form: unknown field",
        ];
        foreach (var e in expected)
            Assert.True(problems.Any(p => p.StartsWith(e, StringComparison.Ordinal)), $"expected a problem starting \"{e}\"; got:\n{string.Join('\n', problems)}");
        Assert.True(problems.Count == expected.Length, $"expected exactly the {expected.Length} broken properties; got:\n{string.Join('\n', problems)}");
    }

    [Theory]
    [InlineData(Manifests.Dev)]
    [InlineData(Manifests.Prod)]
    public void The_policy_holds_for_each_overlay_with_the_job(string overlay)
    {
        var violations = ManifestPolicy.Violations(overlay, WithJob(overlay));
        Assert.True(violations.Count == 0, $"overlays/{overlay} with job/estimate.yaml: {violations.Count} violations:\n{string.Join('\n', violations)}");
    }

    [Fact]
    public void The_policy_check_names_each_violated_property()
    {
        var prod = WithJob(Manifests.Prod);
        var silo = prod.Find("Deployment", "fisher-silo")!;
        var pod = silo["spec"]!["template"]!["spec"]!.AsObject();
        var container = pod["containers"]![0]!.AsObject();
        silo["spec"]!["replicas"] = 2;
        container["resources"]!["limits"]!["cpu"] = "2";
        container["env"]!.AsArray().First(e => e!["name"]!.GetValue<string>() == "FISHER_CACHE_DIR")!["value"] = "/var/cache/fisher";
        container["env"]!.AsArray().First(e => e!["name"]!.GetValue<string>() == "Fisher__Grains__ComputeThreadCount")!["value"] = "4";
        container.Remove("livenessProbe");
        pod["terminationGracePeriodSeconds"] = 30;
        container["volumeMounts"]!.AsArray().First(m => m!["mountPath"]!.GetValue<string>() == "/data")!["readOnly"] = false;
        var env = container["env"]!.AsArray();
        var password = env.First(e => e!["name"]!.GetValue<string>() == "REDIS_PASSWORD")!;
        env.Remove(password);
        env.Add(password);
        var job = prod.Find("Job", "fisher-estimate")!["spec"]!["template"]!["spec"]!.AsObject();
        job["automountServiceAccountToken"] = true;
        job["containers"]![0]!["securityContext"]!["runAsNonRoot"] = false;
        job.Remove("serviceAccountName");
        prod.Find("Namespace", "fisher")!["metadata"]!["labels"]!.AsObject().Remove("pod-security.kubernetes.io/enforce");
        var redis = prod.Find("StatefulSet", "fisher-redis")!;
        redis["spec"]!["template"]!["spec"]!["containers"]![0]!["securityContext"]!["readOnlyRootFilesystem"] = false;
        var config = prod.Find("ConfigMap", "fisher-redis")!["data"]!.AsObject();
        config["redis.conf"] = config["redis.conf"]!.GetValue<string>().Replace("appendonly yes", "appendonly no", StringComparison.Ordinal)
            .Replace("maxmemory 512mb", "maxmemory 1gb", StringComparison.Ordinal);
        prod.Remove(prod.Find("PodDisruptionBudget", "fisher-silo")!);
        prod.Remove(prod.Find("NetworkPolicy", "fisher-redis")!);
        var siloPolicy = prod.Find("NetworkPolicy", "fisher-silo")!["spec"]!;
        siloPolicy["ingress"]![1]!["ports"]!.AsArray().Add(JsonNode.Parse("""{"port": 11111}"""));
        siloPolicy["egress"]!.AsArray().Add(JsonNode.Parse("""{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443}]}"""));
        prod.Add((JsonObject)JsonNode.Parse("""
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "fisher-gateway", "namespace": "fisher"},
             "spec": {"selector": {"app.kubernetes.io/name": "fisher-distributed", "app.kubernetes.io/component": "silo"},
                      "ports": [{"name": "gateway", "port": 30000, "targetPort": "gateway"}]}}
            """)!);

        var violations = ManifestPolicy.Violations(Manifests.Prod, prod);

        string[] expected =
        [
            "Deployment/fisher-silo: spec.replicas: expected at least 3 in prod",
            "Deployment/fisher-silo: container silo: resources.limits.cpu: expected no CPU limit",
            "Deployment/fisher-silo: container silo: livenessProbe: expected httpGet /health/live on port http",
            "Deployment/fisher-silo: container silo: env FISHER_CACHE_DIR: expected a folder inside a writable emptyDir (not its root",
            "Deployment/fisher-silo: container silo: env Fisher__Grains__ComputeThreadCount: expected the CPU request in whole cores (2)",
            "Deployment/fisher-silo: terminationGracePeriodSeconds: expected more than the silo's Fisher__Health__ShutdownTimeout",
            "Deployment/fisher-silo: container silo: volumeMounts /data: expected the dataset claim mounted readOnly",
            "Deployment/fisher-silo: container silo: env Fisher__Redis: $(REDIS_PASSWORD) is not declared before it",
            "Job/fisher-estimate: pod spec automountServiceAccountToken: expected false",
            "Job/fisher-estimate: container estimate: securityContext.runAsNonRoot (or the pod's): expected true",
            "Job/fisher-estimate: pod spec serviceAccountName: expected a ServiceAccount of the manifests",
            "Namespace/fisher: label pod-security.kubernetes.io/enforce: expected restricted",
            "StatefulSet/fisher-redis: container redis: securityContext.readOnlyRootFilesystem: expected true",
            "ConfigMap/fisher-redis-", // ...: redis.conf: appendonly: expected yes in prod
            "PodDisruptionBudget: expected one selecting the silos",
            "NetworkPolicy: expected one admitting ingress from silos to Redis on port redis",
            "StatefulSet/fisher-redis: pod template: expected a NetworkPolicy admitting what it needs to select it",
            "NetworkPolicy/fisher-silo: spec.ingress: admits clients to silos on port silo, which the app does not need",
            "NetworkPolicy/fisher-silo: spec.egress: admits silos to anything (an address block or every pod) on port 443, which the app does not need",
            "Service/fisher-gateway: spec.clusterIP: expected None",
            "Service/fisher-gateway: spec.ports gateway: a virtual IP for silo or gateway traffic",
        ];
        foreach (var e in expected)
            Assert.True(violations.Any(v => v.StartsWith(e, StringComparison.Ordinal)), $"expected a violation starting \"{e}\"; got:\n{string.Join('\n', violations)}");
        Assert.Contains(violations, v => v.EndsWith("redis.conf: appendonly: expected yes in prod", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.EndsWith("redis.conf: maxmemory: expected at most half of the container's memory limit (1Gi; a rewrite forks)", StringComparison.Ordinal));

        var dev = WithJob(Manifests.Dev);
        dev.Find("Deployment", "fisher-silo")!["spec"]!["replicas"] = 3;
        var devConfig = dev.Find("ConfigMap", "fisher-redis")!["data"]!.AsObject();
        devConfig["redis.conf"] = devConfig["redis.conf"]!.GetValue<string>().Replace("appendonly no", "appendonly yes", StringComparison.Ordinal);
        var devViolations = ManifestPolicy.Violations(Manifests.Dev, dev);
        Assert.Contains(devViolations, v => v == "Deployment/fisher-silo: spec.replicas: expected 1 in dev, got 3");
        Assert.Contains(devViolations, v => v.EndsWith("redis.conf: appendonly, save: expected no and \"\" (no persistence) in dev", StringComparison.Ordinal));
    }

    [Fact]
    public void The_silos_and_the_job_run_the_projects_image_at_its_version()
    {
        // The version the build gives the programs: <Version> of Directory.Build.props.
        var built = Path.Combine(Path.GetDirectoryName(TestProcess.SiloPath)!, "Fisher.Silo.dll");
        var version = FileVersionInfo.GetVersionInfo(built).ProductVersion!.Split('+')[0];
        var objects = WithJob(Manifests.Prod);
        var images = objects.PodTemplates()
            .SelectMany(t => t.Template["spec"]!["containers"]!.AsArray().Select(c => (Where: $"{Manifests.Describe(t.Workload)}: container {c!["name"]}", Image: c["image"]!.GetValue<string>(), Container: c)))
            .Where(c => c.Image.StartsWith("fisher-distributed", StringComparison.Ordinal))
            .ToList();
        Assert.Contains(images, i => i.Where.StartsWith("Deployment/fisher-silo:", StringComparison.Ordinal));
        Assert.Contains(images, i => i.Where.StartsWith("Job/fisher-estimate:", StringComparison.Ordinal));
        foreach (var (where, image, container) in images)
        {
            Assert.True(image == $"fisher-distributed:{version}", $"{where}: image: expected fisher-distributed:{version} (the project's version), got {image}");
            if (where.StartsWith("Job/", StringComparison.Ordinal))
                Assert.True(container["command"]?[0]?.GetValue<string>() == Guide.CliProgram, $"{where}: command: expected {Guide.CliProgram} (the CLI)");
            else
                Assert.True(container["command"]?.AsArray().Select(c => c?.GetValue<string>()).SequenceEqual([Guide.SiloProgram]) == true, $"{where}: command: expected [{Guide.SiloProgram}] (the silo, the image's entrypoint)");
        }
    }

    [Fact]
    public void The_job_names_files_of_the_bundled_sample_under_the_silos_data_root()
    {
        var objects = WithJob(Manifests.Prod);
        var silo = objects.Find("Deployment", "fisher-silo")!["spec"]!["template"]!["spec"]!["containers"]![0]!;
        var root = Manifests.Env(silo, "Fisher__Grains__DataRoots__0")!;
        var job = objects.Find("Job", "fisher-estimate")!["spec"]!["template"]!["spec"]!["containers"]![0]!;
        var args = job["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        foreach (var option in new[] { "--model", "--architecture", "--data", "--labels" })
        {
            var at = args.IndexOf(option);
            Assert.True(at >= 0 && at + 1 < args.Count, $"Job/fisher-estimate: args: expected {option}");
            var path = args[at + 1];
            Assert.True(path.StartsWith(root + "/", StringComparison.Ordinal), $"Job/fisher-estimate: args {option}: expected a path under the silos' data root {root}, got {path}");
            // The tests of the deployment mount the repository's samples/ as the dataset volume.
            var sample = Path.Combine(TestProcess.RepoRoot, "samples", path[(root.Length + 1)..]);
            Assert.True(File.Exists(sample), $"Job/fisher-estimate: args {option}: {path} is not a file of samples/ (the dataset volume's layout)");
        }
    }

    [Fact]
    public void The_dashboard_config_map_is_the_one_dashboard_file()
    {
        var file = Path.Combine(TestProcess.RepoRoot, "deploy", "grafana", "fisher-dashboard.json");
        foreach (var overlay in new[] { Manifests.Dev, Manifests.Prod })
        {
            var map = Render(overlay).Find("ConfigMap", "fisher-dashboard")!;
            Assert.True(map["data"]?["fisher-dashboard.json"]?.GetValue<string>() == File.ReadAllText(file), $"overlays/{overlay}: ConfigMap/fisher-dashboard: data fisher-dashboard.json: expected the content of deploy/grafana/fisher-dashboard.json");
            Assert.True(map["metadata"]?["labels"]?["grafana_dashboard"]?.GetValue<string>() == "1", $"overlays/{overlay}: ConfigMap/fisher-dashboard: label grafana_dashboard: expected \"1\" (Grafana's dashboard sidecar)");
        }
        var copies = Directory.EnumerateFiles(TestProcess.RepoRoot, "fisher-dashboard.json", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && !f.Contains("node_modules", StringComparison.Ordinal))
            .ToList();
        Assert.True(copies.Count == 1, $"expected one fisher-dashboard.json in the repository, found {copies.Count}");
    }
}
