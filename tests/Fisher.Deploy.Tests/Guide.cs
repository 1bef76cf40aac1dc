using System.Text.Json.Nodes;

namespace Fisher.Deploy.Tests;

/// <summary>
/// The deployment guide's commands (<c>deploy/README.md</c>) that the tests run or read, in one place:
/// <see cref="GuideTests"/> checks that each appears in the guide as written here, so what the guide tells an operator
/// to run is what the tests run.
/// </summary>
internal static class Guide
{
    /// <summary>The image's programs (deploy/image): the silo (the entrypoint) and the CLI.</summary>
    public const string SiloProgram = "/opt/fisher/Fisher.Silo";
    public const string CliProgram = "/opt/fisher/fisher";

    /// <summary>Builds the image (ImageTests run it, adding <c>--keep-rootfs</c>).</summary>
    public const string BuildImage = "deploy/image/build.sh --out";

    /// <summary>The secrets, made in an empty folder: certificates, then the TLS and Redis-password secrets (<see cref="Secrets"/> runs them).</summary>
    public static readonly string[] SecretCommands =
    [
        "fisher dev-certs --out certs",
        "kubectl -n fisher create secret generic fisher-tls --from-file=certs/",
        "kubectl -n fisher create secret generic fisher-redis --from-literal=password=\"$(head -c 24 /dev/urandom | base64 | tr -d '/+=')\"",
    ];

    /// <summary>Every command of the guide the tests stand for.</summary>
    public static IEnumerable<string> Commands =>
    [
        BuildImage,
        .. SecretCommands,
        $"kubectl kustomize deploy/k8s/overlays/{Manifests.Prod}",
        $"kubectl apply -k deploy/k8s/overlays/{Manifests.Prod}",
        $"kubectl apply -k deploy/k8s/overlays/{Manifests.Dev}",
        "kubectl apply -f deploy/k8s/job/data-loader.yaml",
        "kubectl apply -f deploy/k8s/job/estimate.yaml",
    ];

    /// <summary>
    /// The Secret objects the guide's <see cref="SecretCommands"/> make, run by bash in <paramref name="folder"/> with
    /// <c>fisher</c> the built CLI and kubectl's client-side dry run (<c>--dry-run=client -o yaml</c>: no cluster).
    /// </summary>
    public static async Task<IReadOnlyList<JsonObject>> Secrets(string folder)
    {
        var path = $"{Path.GetDirectoryName(TestProcess.FisherPath)}:{Path.GetDirectoryName(Requirements.Program("kubectl", "kubectl"))}:{Environment.GetEnvironmentVariable("PATH")}";
        var secrets = new List<JsonObject>();
        foreach (var command in SecretCommands)
        {
            bool kubectl = command.StartsWith("kubectl ", StringComparison.Ordinal);
            var run = await TestProcess.Run("/bin/bash", ["-c", kubectl ? command + " --dry-run=client -o yaml" : command], TestTimeouts.Request,
                workingDirectory: folder, environment: new Dictionary<string, string?> { ["PATH"] = path });
            Assert.True(run.ExitCode == 0, run.Describe());
            if (kubectl)
                secrets.AddRange(YamlDocuments.Parse(run.Stdout, command));
        }
        return secrets;
    }
}
