using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Xunit.Abstractions;

namespace Fisher.EndToEnd.Tests;

/// <summary>
/// Issue 13, item 1 (docs/security.md): a secured silo (Redis password, mutual TLS, health and metrics apart) serves
/// only holders of a certificate of the cluster CA, refuses foreign silos, and reports bad settings in one line.
/// </summary>
public sealed class SecurityTests(SecuredSilo cluster, ITestOutputHelper output) : IClassFixture<SecuredSilo>
{
    [Fact]
    public async Task A_client_with_the_cluster_certificate_runs_a_job_and_reads_it()
    {
        var id = $"sec-{Guid.NewGuid().ToString("N")[..8]}";
        string[] on = ["--cluster", cluster.Redis.Connection, .. TestCertificates.CliArguments()];
        var run = await TestProcess.Fisher(["estimate", "--inputs", "100", "--shards", "2", "--estimators", "i1", "--no-progress", "--job-id", id, "--out", Path.Combine(cluster.Scratch.FullName, id), .. on]);
        Assert.True(run.ExitCode == 0, $"{run.Describe()}\n{cluster.Silo.Describe(30)}");
        Assert.True(File.Exists(Path.Combine(cluster.Scratch.FullName, id, "summary.json")));
        Assert.DoesNotContain(cluster.Redis.Password!, run.Stdout + run.Stderr, StringComparison.Ordinal);
        var status = await TestProcess.Fisher(["status", id, .. on]);
        Assert.True(status.ExitCode == 0 && status.Stdout.Contains("Completed", StringComparison.Ordinal), status.Describe());
    }

    /// <summary>
    /// At the TLS layer: the gateway completes a handshake only for a client certificate of the cluster CA (the
    /// control) and drops one without a certificate or with another CA's; the silo port also drops the cluster's
    /// client certificate (it is not a silo's). With the CLI: no certificate, or another CA's, never reaches the job.
    /// </summary>
    [Fact]
    public async Task Clients_without_a_certificate_of_the_cluster_CA_cannot_connect()
    {
        using var client = Load(TestCertificates.Cluster, "client");
        using var silo = Load(TestCertificates.Cluster, "silo");
        using var foreign = Load(TestCertificates.Foreign, "client");
        Assert.True(await Accepted(cluster.GatewayPort, client), "gateway: the cluster's client certificate must be accepted (control)");
        Assert.True(await Accepted(cluster.SiloPort, silo), "silo port: the cluster's silo certificate must be accepted (control)");
        Assert.False(await Accepted(cluster.GatewayPort, null), "gateway: a client without a certificate was accepted");
        Assert.False(await Accepted(cluster.GatewayPort, foreign), "gateway: a certificate of another CA was accepted");
        Assert.False(await Accepted(cluster.SiloPort, client), "silo port: a client certificate was accepted as a silo");

        // The job of the first test, if it ran, or none: either way nothing may be read without the certificate.
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(
            TestProcess.Fisher(["status", "any-job", "--token", "any", "--connect-timeout", "10", "--cluster", cluster.Redis.Connection]),
            TestProcess.Fisher(["status", "any-job", "--token", "any", "--connect-timeout", "10", "--gateway", $"127.0.0.1:{cluster.GatewayPort}", .. TestCertificates.CliArguments(TestCertificates.Foreign)]));
        output.WriteLine($"both refused clients ended after {clock.Elapsed.TotalSeconds:F0} s");
        foreach (var r in results)
        {
            Assert.True(r.ExitCode == 3 && r.Stderr.Contains("could not connect to the cluster", StringComparison.Ordinal), $"a client without the cluster's certificate did not fail to connect (exit code 3):\n{r.Describe()}");
            Assert.DoesNotContain("any-job:", r.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_silo_with_a_foreign_certificate_does_not_join()
    {
        var ports = TestProcess.FreePorts(3);
        using var intruder = TestProcess.Start(TestProcess.SiloPath, SecuredSilo.Arguments(cluster.Redis.Connection, TestCertificates.SiloArguments(TestCertificates.Foreign), ports[0], ports[1], ports[2]));
        using var http = new HttpClient { Timeout = TestTimeouts.Request };
        var clock = Stopwatch.StartNew();
        var watch = TestTimeouts.Of(TimeSpan.FromSeconds(40));
        while (!intruder.HasExited && clock.Elapsed < watch)
        {
            Assert.NotEqual(HttpStatusCode.OK, await SecuredSilo.Status(http, ports[0], "health/ready"));
            Assert.True(await cluster.RingSize() == 1, $"the cluster counts the intruder:\n{intruder.Describe(20)}");
            await Task.Delay(500);
        }
        output.WriteLine($"intruder {(intruder.HasExited ? $"gave up after {clock.Elapsed.TotalSeconds:F0} s" : "still trying")}");
        Assert.Equal(HttpStatusCode.OK, await SecuredSilo.Status(http, cluster.HealthPort, "health/ready"));
    }

    [Fact]
    public async Task A_wrong_or_missing_Redis_password_is_one_line_on_silo_and_cli()
    {
        var ports = TestProcess.FreePorts(3);
        var endpoint = $"{RedisServer.Host}:{cluster.Redis.Port}";
        foreach (var (redis, expected) in new[] { ($"{endpoint},password=wrong", "wrong password"), (endpoint, "requires a password") })
        {
            var silo = await TestProcess.Run(TestProcess.SiloPath, SecuredSilo.Arguments(redis, TestCertificates.SiloArguments(), ports[0], ports[1], ports[2]), TestTimeouts.Startup);
            AssertOneLine(silo, 2, expected);
            var cli = await TestProcess.Fisher(["status", "any-job", "--token", "any", "--cluster", redis, .. TestCertificates.CliArguments()]);
            AssertOneLine(cli, 2, expected);
        }
    }

    [Fact]
    public async Task A_cluster_silo_without_TLS_settings_refuses_to_start()
    {
        var ports = TestProcess.FreePorts(3);
        var silo = await TestProcess.Run(TestProcess.SiloPath, SecuredSilo.Arguments(cluster.Redis.Connection, [], ports[0], ports[1], ports[2]), TestTimeouts.Startup);
        AssertOneLine(silo, 2, "Fisher:Tls:Certificate");
    }

    [Fact]
    public async Task Metrics_answer_only_on_the_metrics_address_and_health_only_on_its_own()
    {
        using var http = new HttpClient { Timeout = TestTimeouts.Request };
        Assert.Equal(HttpStatusCode.NotFound, await SecuredSilo.Status(http, cluster.HealthPort, "metrics"));
        Assert.Equal(HttpStatusCode.NotFound, await SecuredSilo.Status(http, cluster.HealthPort, "METRICS"));
        Assert.Equal(HttpStatusCode.OK, await SecuredSilo.Status(http, cluster.MetricsPort, "metrics"));
        Assert.Equal(HttpStatusCode.NotFound, await SecuredSilo.Status(http, cluster.MetricsPort, "health/ready"));
        Assert.Equal(HttpStatusCode.OK, await SecuredSilo.Status(http, cluster.HealthPort, "health/ready"));
    }

    [Fact]
    public async Task Dev_certs_keys_are_private_and_a_set_is_never_overwritten()
    {
        foreach (var key in new[] { "silo.key", "client.key" })
        {
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(TestCertificates.Cluster, key)));
        }
        var again = await TestProcess.Fisher(["dev-certs", "--out", TestCertificates.Cluster]);
        AssertOneLine(again, 2, "exists");
    }

    /// <summary>The process ended with <paramref name="exitCode"/> and printed exactly one line, containing <paramref name="expected"/> and no stack frame.</summary>
    private static void AssertOneLine(ProcessResult result, int exitCode, string expected)
    {
        var lines = (result.Stdout + result.Stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(result.ExitCode == exitCode && lines.Length == 1 && lines[0].Contains(expected, StringComparison.Ordinal),
            $"expected exit code {exitCode} and one line with '{expected}':\n{result.Describe()}");
    }

    private static readonly Lazy<string> SiloCertificateHash = new(() =>
    {
        using var silo = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(TestCertificates.Cluster, "silo.crt")));
        return silo.GetCertHashString();
    });

    private static X509Certificate2 Load(string folder, string name) =>
        X509Certificate2.CreateFromPemFile(Path.Combine(folder, $"{name}.crt"), Path.Combine(folder, $"{name}.key"));

    /// <summary>
    /// True when the server completes a TLS handshake with <paramref name="certificate"/> (none when null) and keeps the
    /// connection open. With TLS 1.3 the server judges the client's certificate after the client has finished its side,
    /// so a refusal shows as the connection closing (or an alert) on the first read; an accepted one stays open, waiting
    /// for Orleans' preamble.
    /// </summary>
    private static async Task<bool> Accepted(int port, X509Certificate2? certificate)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ClientCertificates = certificate is null ? null : [certificate],
            // The silo presents the cluster's silo certificate (the CLI checks its chain; here it is just compared).
            RemoteCertificateValidationCallback = (_, server, _, _) => server is not null && server.GetCertHashString() == SiloCertificateHash.Value,
        };
        try
        {
            using var handshake = new CancellationTokenSource(TestTimeouts.Request);
            await tls.AuthenticateAsClientAsync(options, handshake.Token);
            using var open = new CancellationTokenSource(TestTimeouts.Of(TimeSpan.FromSeconds(2)));
            return await tls.ReadAsync(new byte[1], open.Token) > 0;
        }
        catch (OperationCanceledException)
        {
            return true; // still open
        }
        catch (Exception e) when (e is IOException or AuthenticationException or SocketException)
        {
            return false;
        }
    }
}
