using System.Text.Json.Nodes;

namespace Fisher.Deploy.Tests;

/// <summary>
/// The names and commands of the deployment guide (<c>deploy/README.md</c>) that the tests use, in one place:
/// <see cref="GuideTests"/> checks that every command here appears in the guide as written, so what the guide tells an
/// operator to run is what the tests run.
/// </summary>
internal static class Guide
{
    public const string DevOverlay = "overlays/dev";
    public const string ProdOverlay = "overlays/prod";
    public const string JobManifest = "job/estimate.yaml";
    public const string SiloDeployment = "fisher-silo";
    public const string SiloContainer = "silo";
    public const string RedisWorkload = "fisher-redis";

    /// <summary>The image's programs (deploy/image).</summary>
    public const string SiloProgram = "/opt/fisher/Fisher.Silo";
    public const string CliProgram = "/opt/fisher/fisher";

    /// <summary>The guide's commands that make the cluster's secrets, with <c>certs</c> the folder of <see cref="DevCerts"/>.</summary>
    public static readonly string[] DevCerts = ["dev-certs", "--out", "certs"];
    public static readonly string[] TlsSecret = ["create", "secret", "generic", "fisher-tls", "--from-file=certs/"];
    public static readonly string[] RedisSecret = ["create", "secret", "generic", "fisher-redis", "--from-literal=password=$REDIS_PASSWORD"];

    /// <summary>How each command reads in the guide (<c>fisher ...</c>, <c>kubectl ...</c>).</summary>
    public static IEnumerable<string> Commands =>
    [
        "fisher " + string.Join(' ', DevCerts),
        "kubectl " + string.Join(' ', TlsSecret),
        "kubectl " + string.Join(' ', RedisSecret),
        $"kubectl kustomize deploy/k8s/{ProdOverlay}",
        $"kubectl kustomize deploy/k8s/{DevOverlay}",
        $"deploy/k8s/{JobManifest}",
    ];

    /// <summary>
    /// The Secret objects the guide's commands make, run in <paramref name="folder"/> with client-side dry run
    /// (<c>--dry-run=client -o yaml</c>: no cluster needed) and a fresh password.
    /// </summary>
    public static async Task<IReadOnlyList<JsonObject>> Secrets(string folder)
    {
        var certs = await TestProcess.Run(TestProcess.FisherPath, DevCerts, TestTimeouts.Request, workingDirectory: folder);
        Assert.True(certs.ExitCode == 0, certs.Describe());
        var kubectl = Requirements.Program("kubectl", "kubectl");
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(18));
        var secrets = new List<JsonObject>();
        foreach (var command in new[] { TlsSecret, RedisSecret })
        {
            var args = command.Select(a => a.Replace("$REDIS_PASSWORD", password, StringComparison.Ordinal)).Concat(["--dry-run=client", "-o", "yaml"]);
            var made = await TestProcess.Run(kubectl, args, TestTimeouts.Request, workingDirectory: folder);
            Assert.True(made.ExitCode == 0, made.Describe());
            secrets.AddRange(Kustomize.Parse(made.Stdout, "kubectl " + command[3]));
        }
        return secrets;
    }
}
