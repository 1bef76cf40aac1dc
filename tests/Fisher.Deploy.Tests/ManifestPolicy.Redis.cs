using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Fisher.Deploy.Tests;

/// <summary>Redis (persistence by overlay, password from the secret) and the estimate Job.</summary>
public static partial class ManifestPolicy
{
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
        var limit = Quantity(container["resources"]?["limits"]?["memory"]);
        if (RedisBytes(config.GetValueOrDefault("maxmemory")) is not { } maxmemory || limit is null || maxmemory * 2 > limit)
            v.Add($"{c}: maxmemory: expected at most half of the container's memory limit ({container["resources"]?["limits"]?["memory"]}; a rewrite forks)");
        if (config.GetValueOrDefault("maxmemory-policy") != "noeviction")
            v.Add($"{c}: maxmemory-policy: expected noeviction (membership rows and job state must never be evicted)");
        var dirAt = args.IndexOf("--dir");
        var dir = dirAt >= 0 && dirAt + 1 < args.Count ? args[dirAt + 1] : config.GetValueOrDefault("dir");
        var dataMount = dir is null ? null : MountOf(pod, container, dir);
        var claims = redis["spec"]?["volumeClaimTemplates"]?.AsArray() ?? [];
        var onClaim = dataMount is { Volume: null } && claims.Any(t => S(t?["metadata"]?["name"]) == dataMount.Name);
        if (overlay == Manifests.Prod)
        {
            if (config.GetValueOrDefault("appendonly") != "yes")
                v.Add($"{c}: appendonly: expected yes in prod");
            if (!onClaim)
                v.Add($"{w}: its data folder (--dir {dir}): expected a volumeClaimTemplates volume mounted there in prod");
        }
        else
        {
            if (config.GetValueOrDefault("appendonly") != "no" || config.GetValueOrDefault("save") != "\"\"")
                v.Add($"{c}: appendonly, save: expected no and \"\" (no persistence) in {overlay}");
            if (claims.Count > 0 || onClaim)
                v.Add($"{w}: spec.volumeClaimTemplates: expected none in {overlay}");
        }
    }


    /// <summary>A Redis memory size (1k = 1000, 1kb = 1024, m, mb, g, gb), or null.</summary>
    private static long? RedisBytes(string? text)
    {
        var m = text is null ? null : RedisSize().Match(text.ToLowerInvariant());
        if (m is null || !m.Success)
            return null;
        long factor = m.Groups[2].Value switch
        {
            "" => 1, "k" => 1000, "kb" => 1024, "m" => 1_000_000, "mb" => 1L << 20, "g" => 1_000_000_000, "gb" => 1L << 30, _ => 0,
        };
        return factor == 0 ? null : long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) * factor;
    }

    [GeneratedRegex("^([0-9]+)(k|kb|m|mb|g|gb)?$")]
    private static partial Regex RedisSize();

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
}
