using System.Xml.Linq;
using Fisher.EndToEnd.Tests;

namespace Fisher.Deploy.Tests;

/// <summary>
/// The image, built once for a test class by <c>deploy/image/build.sh --out DIR --keep-rootfs</c> into a temporary
/// folder (removed afterwards): the archive, read and checked lazily, and the unpacked root file system.
/// Needs root, as the script does (CI runs as root).
/// </summary>
public sealed class BuiltImage : IAsyncLifetime
{
    private readonly DirectoryInfo _out = Directory.CreateTempSubdirectory("fisher-image-");
    private Lazy<OciArchive>? _archive;
    private Lazy<IReadOnlyList<RootFsEntry>>? _rootFs;

    /// <summary>The project version: &lt;Version&gt; in Directory.Build.props.</summary>
    public static string ProjectVersion { get; } =
        XDocument.Load(Path.Combine(TestProcess.RepoRoot, "Directory.Build.props")).Descendants("Version").Single().Value;

    public string ArchivePath => Path.Combine(_out.FullName, $"fisher-distributed-{ProjectVersion}.oci.tar");

    public string RootFs => Path.Combine(_out.FullName, "rootfs");

    /// <summary>What build.sh printed.</summary>
    public ProcessResult Build { get; private set; } = null!;

    public OciArchive Archive => _archive!.Value;

    /// <summary>Every path of <see cref="RootFs"/>, symbolic links not followed.</summary>
    public IReadOnlyList<RootFsEntry> RootFsEntries => _rootFs!.Value;

    /// <summary>The config's "config" member: User, Entrypoint, Env, WorkingDir, Labels, ...</summary>
    public System.Text.Json.JsonElement ImageConfig => Archive.Config.GetProperty("config");

    public async Task InitializeAsync()
    {
        if (!Environment.IsPrivilegedProcess)
            throw new InvalidOperationException("the image tests need root: deploy/image/build.sh extracts Debian packages keeping file owners, and the silo runs in a chroot (CI runs as root)");
        // A cold build publishes two self-contained apps (about 1.5 min on a quiet 2-core machine): twice a job's bound.
        var timeout = TestTimeouts.Of(TimeSpan.FromMinutes(10));
        Build = await TestProcess.Run(Path.Combine(TestProcess.RepoRoot, "deploy", "image", "build.sh"), ["--out", _out.FullName, "--keep-rootfs"], timeout);
        if (Build.ExitCode != 0)
            throw new InvalidOperationException($"deploy/image/build.sh failed:\n{Build.Describe()}");
        _archive = new Lazy<OciArchive>(() => OciArchive.Read(ArchivePath));
        _rootFs = new Lazy<IReadOnlyList<RootFsEntry>>(() => RootFsEntry.List(RootFs));
    }

    /// <summary>The commit the image was built from (git rev-parse HEAD).</summary>
    public static async Task<string> HeadCommit()
    {
        var git = await TestProcess.Run(Requirements.Program("git", "git"), ["-C", TestProcess.RepoRoot, "rev-parse", "HEAD"], TestTimeouts.Request);
        Assert.True(git.ExitCode == 0, git.Describe());
        return git.Stdout.Trim();
    }

    public Task DisposeAsync()
    {
        _out.Delete(recursive: true);
        return Task.CompletedTask;
    }
}
