using Fisher.EndToEnd.Tests;

namespace Fisher.Deploy.Tests;

/// <summary>
/// Programs of the image started from its unpacked root file system as the image config says (User, WorkingDir, Env,
/// and HOME from /etc/passwd as runtimes set it), read-only, with tmpfs volumes: tests/Fisher.Deploy.Tests/run-in-rootfs.sh.
/// </summary>
internal static class RootFsProgram
{
    /// <summary>Starts <paramref name="program"/> (a path inside the image); <paramref name="data"/> is bound read-only at /tmp/data.</summary>
    public static TestProcess Start(BuiltImage image, string program, IEnumerable<string> args, string? data = null)
    {
        Requirements.Program("unshare", "util-linux");
        Requirements.Program("mount", "mount");
        var config = image.ImageConfig;
        var user = config.GetProperty("User").GetString()!.Split(':');
        Assert.True(user.Length == 2, $"image config User is '{config.GetProperty("User").GetString()}', expected UID:GID");
        var environment = config.GetProperty("Env").EnumerateArray().Select(e => e.GetString()!).ToList();
        if (!environment.Any(e => e.StartsWith("HOME=", StringComparison.Ordinal)))
            environment.Add($"HOME={Home(image, user[0])}");
        List<string> arguments =
        [
            image.RootFs, user[0], user[1], config.GetProperty("WorkingDir").GetString()!,
            .. data is null ? Array.Empty<string>() : ["--data", data],
            .. environment,
            "--", program, .. args,
        ];
        return TestProcess.Start(Script, arguments);
    }

    /// <summary>Runs <paramref name="program"/> to its end (bounded by a job's timeout).</summary>
    public static async Task<ProcessResult> Run(BuiltImage image, string program, IEnumerable<string> args, string? data = null)
    {
        using var process = Start(image, program, args, data);
        return await process.WaitForExit(TestTimeouts.Job);
    }

    /// <summary>The image's entrypoint (one path).</summary>
    public static string Entrypoint(BuiltImage image) => image.ImageConfig.GetProperty("Entrypoint").EnumerateArray().Single().GetString()!;

    private static string Script => Path.Combine(TestProcess.RepoRoot, "tests", "Fisher.Deploy.Tests", "run-in-rootfs.sh");

    private static string Home(BuiltImage image, string uid) =>
        File.ReadAllLines(Path.Combine(image.RootFs, "etc", "passwd")).Select(l => l.Split(':')).FirstOrDefault(f => f.Length == 7 && f[2] == uid)?[5]
        ?? throw new InvalidOperationException($"the image's /etc/passwd has no user with uid {uid}");
}
