using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using Fisher.EndToEnd.Tests;

namespace Fisher.Deploy.Tests;

/// <summary>
/// The image of deploy/image/build.sh: a valid OCI archive whose config runs the silo as an unprivileged user, a root
/// file system without build tools where only the volumes are writable, and entrypoints that work from it, read-only.
/// </summary>
public sealed partial class ImageTests(BuiltImage image) : IClassFixture<BuiltImage>
{
    private const string User = "10001:10001";

    [Fact]
    public void Archive_IsAnOciLayoutNamedAfterTheProjectVersion()
    {
        Assert.Equal($"fisher-distributed:{BuiltImage.ProjectVersion}", image.Archive.RefName);
        Assert.Equal(2, image.Archive.Manifest.GetProperty("schemaVersion").GetInt32());
        Assert.Equal("amd64", image.Archive.Config.GetProperty("architecture").GetString());
        Assert.Equal("linux", image.Archive.Config.GetProperty("os").GetString());
    }

    [Fact]
    public async Task Archive_IsReadBySkopeo()
    {
        var skopeo = await TestProcess.Run(Requirements.Program("skopeo", "skopeo"), ["inspect", $"oci-archive:{image.ArchivePath}"], TestTimeouts.Job);
        Assert.True(skopeo.ExitCode == 0, skopeo.Describe());
        using var inspected = JsonDocument.Parse(skopeo.Stdout);
        Assert.Equal(BuiltImage.ProjectVersion, inspected.RootElement.GetProperty("Labels").GetProperty("org.opencontainers.image.version").GetString());
        Assert.Equal(image.Archive.Manifest.GetProperty("layers").GetArrayLength(), inspected.RootElement.GetProperty("Layers").GetArrayLength());
    }

    [Fact]
    public void Config_RunsTheSiloAsAnUnprivilegedUserWithTheVolumesAndPorts()
    {
        var config = image.ImageConfig;
        Assert.Equal(User, config.GetProperty("User").GetString());
        Assert.Equal([Guide.SiloProgram], config.GetProperty("Entrypoint").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("/opt/fisher", config.GetProperty("WorkingDir").GetString());
        var env = config.GetProperty("Env").EnumerateArray().Select(e => e.GetString()!).ToDictionary(e => e[..e.IndexOf('=', StringComparison.Ordinal)], e => e[(e.IndexOf('=', StringComparison.Ordinal) + 1)..]);
        Assert.Contains("/opt/fisher", env["PATH"].Split(':'));
        Assert.StartsWith("/var/cache/fisher/", env["FISHER_CACHE_DIR"], StringComparison.Ordinal);
        Assert.DoesNotContain(env.Keys, k => k.Equals("DOTNET_gcServer", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(["/tmp", "/var/cache/fisher"], config.GetProperty("Volumes").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["11111/tcp", "30000/tcp", "8080/tcp"], config.GetProperty("ExposedPorts").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Labels_NameTheTitleProjectVersionCommitAndSource()
    {
        var labels = image.ImageConfig.GetProperty("Labels");
        Assert.Equal("fisher-distributed", labels.GetProperty("org.opencontainers.image.title").GetString());
        Assert.Equal(BuiltImage.ProjectVersion, labels.GetProperty("org.opencontainers.image.version").GetString());
        Assert.Equal(await BuiltImage.HeadCommit(), labels.GetProperty("org.opencontainers.image.revision").GetString());
        var source = labels.GetProperty("org.opencontainers.image.source").GetString()!;
        Assert.True(Uri.TryCreate(source, UriKind.Absolute, out var uri) && string.IsNullOrEmpty(uri.UserInfo), $"org.opencontainers.image.source '{source}' should be an absolute URL without user information");
    }

    [Fact]
    public void RootFs_HoldsExactlyTheLayers()
    {
        static char Kind(TarEntryType t) => t switch
        {
            TarEntryType.Directory => 'd',
            TarEntryType.SymbolicLink => 'l',
            TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.HardLink => 'f',
            _ => '?',
        };
        Assert.DoesNotContain(image.Archive.Entries, e => Path.GetFileName(e.Path).StartsWith(".wh.", StringComparison.Ordinal));
        var layers = image.Archive.Entries.Where(e => e.Path.Length > 0).GroupBy(e => e.Path).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        var rootFs = image.RootFsEntries.ToDictionary(e => e.Path, StringComparer.Ordinal);
        Assert.Equal(layers.Keys.Order(StringComparer.Ordinal), rootFs.Keys.Order(StringComparer.Ordinal));
        foreach (var (path, entry) in layers)
        {
            var file = rootFs[path];
            Assert.True(Kind(entry.Type) == file.Type, $"{path}: {entry.Type} in layer {entry.Layer}, '{file.Type}' in the rootfs");
            if (entry.Type is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                Assert.True(entry.Length == file.Size, $"{path}: {entry.Length} bytes in layer {entry.Layer}, {file.Size} in the rootfs");
            if (entry.Type is TarEntryType.SymbolicLink)
                Assert.True(entry.LinkName == file.LinkTarget, $"{path}: links to {entry.LinkName} in layer {entry.Layer}, to {file.LinkTarget} in the rootfs");
        }
    }

    /// <summary>
    /// Nothing that builds or installs code: C and C++ compilers, preprocessors, assemblers, linkers and make (with
    /// Debian's versioned and target-prefixed names, e.g. x86_64-linux-gnu-gcc-12), the package managers that could
    /// fetch them, and the .NET SDK (the dotnet host, MSBuild, the C# compiler). Microsoft.CodeAnalysis.dll, which
    /// Orleans' packages bring, is Roslyn's language-neutral core: it compiles nothing without a language assembly.
    /// </summary>
    [Fact]
    public void RootFs_HasNoCompilerPackageManagerOrSdk()
    {
        var found = image.RootFsEntries.Where(e => e.Type is 'f' or 'l' && BuildTool().IsMatch(Path.GetFileName(e.Path))).Select(e => e.Path).ToList();
        Assert.True(found.Count == 0, $"build tools in the image: {string.Join(", ", found)}");
        var sdk = image.RootFsEntries.Where(e => SdkFile().IsMatch(Path.GetFileName(e.Path)) || e.Path.EndsWith("/sdk", StringComparison.Ordinal)).Select(e => e.Path).ToList();
        Assert.True(sdk.Count == 0, $".NET SDK files in the image: {string.Join(", ", sdk)}");
    }

    [Fact]
    public void RootFs_EntrypointsAreExecutableByTheUser()
    {
        var entries = image.RootFsEntries.ToDictionary(e => e.Path, StringComparer.Ordinal);
        foreach (var entrypoint in new[] { RootFsProgram.Entrypoint(image), Guide.CliProgram })
        {
            var path = entrypoint.TrimStart('/');
            for (int hops = 0; entries.TryGetValue(path, out var link) && link.Type == 'l' && hops < 8; hops++)
                path = link.LinkTarget.StartsWith('/') ? link.LinkTarget.TrimStart('/') : Path.Combine(Path.GetDirectoryName(path)!, link.LinkTarget);
            Assert.True(entries.TryGetValue(path, out var file) && file.Type == 'f', $"{entrypoint} does not lead to a regular file in the image");
            // The user owns nothing there and is not in root's group: the "other" execute bit is what counts.
            Assert.True((file.Mode & 0b001_000_000) != 0 && (file.Mode & 0b000_000_001) != 0, $"{entrypoint} ({path}) has mode {Convert.ToString(file.Mode, 8)}, expected executable by others");
        }
    }

    [Fact]
    public void RootFs_OnlyTheVolumesAreWritableByTheUser()
    {
        var (uid, gid) = (10001, 10001);
        var writable = image.RootFsEntries
            .Where(e => e.Type != 'l' && (e.Uid == uid || (e.Gid == gid && (e.Mode & 0b000_010_000) != 0) || (e.Mode & 0b000_000_010) != 0))
            .Select(e => e.Path).Order(StringComparer.Ordinal);
        Assert.Equal(["tmp", "var/cache/fisher"], writable);
        Assert.Contains(image.RootFsEntries, e => e.Path == "opt/fisher/silo/Fisher.Silo.dll" && e.Uid == 0);
    }

    [Fact]
    public void RootFs_HasTheUserAndGroup()
    {
        var passwd = File.ReadAllLines(Path.Combine(image.RootFs, "etc", "passwd")).Select(l => l.Split(':')).ToList();
        var fisher = Assert.Single(passwd, f => f[0] == "fisher");
        Assert.Equal(["10001", "10001"], fisher[2..4]);
        Assert.Equal("/tmp", fisher[5]); // a volume: the CLI keeps job tokens under $HOME/.config
        Assert.Single(File.ReadAllLines(Path.Combine(image.RootFs, "etc", "group")), l => l.StartsWith("fisher:x:10001:", StringComparison.Ordinal));
    }

    /// <summary>Debian's CA certificates where OpenSSL (and so .NET) looks, for a Redis or collector with a public certificate.</summary>
    [Fact]
    public void RootFs_TrustsDebiansCertificateAuthorities()
    {
        var bundle = new X509Certificate2Collection();
        bundle.ImportFromPemFile(Path.Combine(image.RootFs, "etc", "ssl", "certs", "ca-certificates.crt"));
        Assert.True(bundle.Count > 100, $"/etc/ssl/certs/ca-certificates.crt holds {bundle.Count} certificates, expected Debian's (over 100)");
        Assert.Contains(image.RootFsEntries, e => e.Path == "usr/lib/ssl/cert.pem" && e.LinkTarget == "/etc/ssl/certs/ca-certificates.crt");
        Assert.Contains(image.RootFsEntries, e => e.Path == "usr/lib/ssl/certs" && e.LinkTarget == "/etc/ssl/certs");
    }

    [Fact]
    public async Task Silo_FromTheReadOnlyRootFs_AnswersHealthReadyAsTheUserAndStopsOnSigterm()
    {
        var ports = TestProcess.FreePorts(3);
        using var silo = RootFsProgram.Start(image, RootFsProgram.Entrypoint(image),
            [$"--Fisher:Http:Address=127.0.0.1:{ports[0]}", $"--Fisher:SiloPort={ports[1]}", $"--Fisher:GatewayPort={ports[2]}"]);
        using var http = new HttpClient { Timeout = TestTimeouts.Request };
        var clock = Stopwatch.StartNew();
        while (await Status(http, ports[0]) != HttpStatusCode.OK)
        {
            Assert.False(silo.HasExited, $"the silo exited while starting:\n{silo.Describe(60)}");
            Assert.True(clock.Elapsed < TestTimeouts.Startup, $"{TestTimeouts.Exceeded(TestTimeouts.Startup, "/health/ready 200")}:\n{silo.Describe(60)}");
            await Task.Delay(250);
        }

        // It runs as the image's user, on a read-only root (every step of run-in-rootfs.sh execs: the silo is its process).
        var uids = File.ReadAllLines($"/proc/{silo.Id}/status").Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1..];
        Assert.Equal(["10001", "10001", "10001", "10001"], uids);
        var root = File.ReadAllLines($"/proc/{silo.Id}/mountinfo").Select(l => l.Split(' ')).Last(f => f[4] == "/");
        Assert.Contains("ro", root[5].Split(','));

        // A runtime stops it with SIGTERM: it leaves and exits 0.
        var kill = await TestProcess.Run(Requirements.Program("kill", "procps"), ["-TERM", silo.Id.ToString(CultureInfo.InvariantCulture)], TestTimeouts.Request);
        Assert.True(kill.ExitCode == 0, kill.Describe());
        var stopped = await silo.WaitForExit(TestTimeouts.Stop);
        Assert.True(stopped.ExitCode == 0, stopped.Describe());
    }

    [Fact]
    public async Task Cli_FromTheRootFs_PrintsHelpAndTheProjectVersion()
    {
        var help = await RootFsProgram.Run(image, Guide.CliProgram, ["--help"]);
        Assert.True(help.ExitCode == 0 && help.Stdout.Contains("estimate", StringComparison.Ordinal), help.Describe());
        var version = await RootFsProgram.Run(image, Guide.CliProgram, ["--version"]);
        Assert.True(version.ExitCode == 0, version.Describe());
        Assert.StartsWith(BuiltImage.ProjectVersion + "+", version.Stdout.Trim(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A job of 20 inputs on the bundled MLP in the CLI's embedded silo: TorchSharp's native shim loads against the
    /// image's libstdc++ (the ELF step of Directory.Build.targets ran on the published copy); health checks load no torch.
    /// </summary>
    [Fact]
    public async Task Cli_FromTheRootFs_EstimatesWithTorchSharp()
    {
        var sample = Path.Combine(TestProcess.RepoRoot, "samples", "fashion-mnist");
        var run = await RootFsProgram.Run(image, Guide.CliProgram,
        [
            "estimate", "--model", "/tmp/data/model.pt", "--architecture", "/tmp/data/model.json",
            "--data", "/tmp/data/t10k-2000-images-idx3-ubyte.gz", "--labels", "/tmp/data/t10k-2000-labels-idx1-ubyte.gz",
            "--inputs", "20", "--estimators", "i1,exact", "--out", "/tmp/results",
        ], data: sample);
        Assert.True(run.ExitCode == 0, run.Describe());
        Assert.Contains("Results: /tmp/results", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("layer1", run.Stdout, StringComparison.Ordinal);
    }

    private static async Task<HttpStatusCode?> Status(HttpClient http, int port)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/health/ready")));
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"^(x86_64-linux-gnu-)?(gcc|g\+\+|cc|c\+\+|cpp|clang|clang\+\+|tcc|as|ld|ld\.bfd|ld\.gold|ld\.lld|make|gmake|apt|apt-get|dpkg)(-[0-9.]+)?$")]
    private static partial Regex BuildTool();

    [GeneratedRegex(@"^(dotnet|dotnet\.dll|csc\.dll|csc|VBCSCompiler\.dll|MSBuild\.dll|Microsoft\.Build\.dll|Microsoft\.CodeAnalysis\.CSharp\.dll)$")]
    private static partial Regex SdkFile();
}
