namespace Fisher.EndToEnd.Tests;

/// <summary>
/// Certificates for tests of a mutual-TLS cluster, made once per test process by the built <c>fisher dev-certs</c>
/// (the same code users run) into a temporary folder deleted when the process ends: <see cref="Cluster"/> is the set
/// silos and clients share, <see cref="Foreign"/> a second set from another CA (an outsider's certificates).
/// Silos take <see cref="SiloArguments"/>, CLI commands <see cref="CliArguments"/>.
/// </summary>
public static class TestCertificates
{
    private static readonly Lazy<string> ClusterSet = new(() => Make("cluster"));
    private static readonly Lazy<string> ForeignSet = new(() => Make("foreign"));

    /// <summary>The folder of the cluster's set: ca.crt, silo.crt, silo.key, client.crt, client.key.</summary>
    public static string Cluster => ClusterSet.Value;

    /// <summary>The folder of a set from another CA.</summary>
    public static string Foreign => ForeignSet.Value;

    /// <summary><c>--Fisher:Tls:*</c> arguments of a Fisher.Silo with the silo certificate of <paramref name="folder"/> (default: <see cref="Cluster"/>).</summary>
    public static string[] SiloArguments(string? folder = null)
    {
        folder ??= Cluster;
        return
        [
            $"--Fisher:Tls:Certificate={Path.Combine(folder, "silo.crt")}",
            $"--Fisher:Tls:Key={Path.Combine(folder, "silo.key")}",
            $"--Fisher:Tls:CA={Path.Combine(folder, "ca.crt")}",
        ];
    }

    /// <summary><c>--tls-cert/--tls-key/--tls-ca</c> of a fisher command with the client certificate of <paramref name="folder"/> (default: <see cref="Cluster"/>).</summary>
    public static string[] CliArguments(string? folder = null)
    {
        folder ??= Cluster;
        return
        [
            "--tls-cert", Path.Combine(folder, "client.crt"),
            "--tls-key", Path.Combine(folder, "client.key"),
            "--tls-ca", Path.Combine(folder, "ca.crt"),
        ];
    }

    private static string Make(string name)
    {
        var parent = Directory.CreateTempSubdirectory($"fisher-certs-{name}-");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Delete(parent);
        var folder = Path.Combine(parent.FullName, "certs");
        var result = TestProcess.Run(TestProcess.FisherPath, ["dev-certs", "--out", folder], TestTimeouts.Job).GetAwaiter().GetResult();
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"fisher dev-certs failed:\n{result.Describe()}");
        return folder;
    }

    private static void Delete(DirectoryInfo folder)
    {
        try
        {
            folder.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
