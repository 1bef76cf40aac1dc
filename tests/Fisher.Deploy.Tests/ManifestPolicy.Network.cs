using System.Globalization;
using System.Text.Json.Nodes;

namespace Fisher.Deploy.Tests;

/// <summary>NetworkPolicies: default deny over every pod, the flows the app needs admitted, nothing else.</summary>
public static partial class ManifestPolicy
{
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
            // Silos, Redis and clients talk; any other pod of the app (the data loader) needs no network at all.
            bool talks = labels.GetValueOrDefault("app.kubernetes.io/component") is "silo" or "redis" or "job";
            bool admitted = policies.Any(p => !IsDefaultDeny(p) && Selects(p["spec"]?["podSelector"], labels));
            if (talks && !admitted)
                v.Add($"{Manifests.Describe(workload)}: pod template: expected a NetworkPolicy admitting what it needs to select it");
            else if (!talks && admitted)
                v.Add($"{Manifests.Describe(workload)}: pod template: expected no NetworkPolicy admitting traffic (it needs none)");
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
            if (S(pods["matchLabels"]?["k8s-app"]) == "kube-dns" && S(namespaces["matchLabels"]?["kubernetes.io/metadata.name"]) == "kube-system")
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
}
