using System.Runtime.InteropServices;

namespace Fisher.EndToEnd.Tests;

/// <summary>
/// The attack through the CLI on two Fisher.Silo processes: a job naming a system-like password file (outside
/// the silos' data roots) or a FIFO inside them fails at once with one line naming the option and the path, never the
/// file's bytes; the same silos then run a good job.
/// </summary>
public sealed class ConfinementTests(TwoSiloCluster cluster) : IClassFixture<TwoSiloCluster>, IDisposable
{
    private const string Secret = "SECRET-e2e-71c0";
    private readonly string _outside = OutsideRoots.Create();

    public void Dispose() => Directory.Delete(_outside, recursive: true);

    private static string Sample(string name) => Path.Combine(TestProcess.RepoRoot, "samples", "fashion-mnist", name);

    private async Task<string> Refused(string option, string path, string expected)
    {
        // Every file named, so that the CLI does not look for the others beside the one under test.
        var files = new Dictionary<string, string>
        {
            ["--model"] = Sample("model.pt"), ["--architecture"] = Sample("model.json"),
            ["--data"] = Sample("t10k-2000-images-idx3-ubyte.gz"), ["--labels"] = Sample("t10k-2000-labels-idx1-ubyte.gz"),
        };
        files[option] = path;
        var result = await TestProcess.Fisher(["estimate", .. cluster.ClientArguments, .. files.SelectMany(f => new[] { f.Key, f.Value }), "--inputs", "100", "--no-progress",
            "--out", Path.Combine(cluster.Scratch.FullName, "refused-" + Guid.NewGuid().ToString("N")[..8])]);
        Assert.True(result.ExitCode != 0, result.Describe());
        var lines = (result.Stdout + "\n" + result.Stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = lines.SingleOrDefault(l => l.Contains(expected, StringComparison.Ordinal));
        Assert.True(line is not null, $"no one line with '{expected}'\n{result.Describe()}");
        Assert.Contains(path, line, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, result.Stdout + result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("726F6F74", result.Stdout + result.Stderr, StringComparison.OrdinalIgnoreCase); // "root" in hex
        return line;
    }

    [Fact]
    public async Task A_password_file_outside_the_roots_and_a_fifo_inside_are_refused_and_a_good_job_runs_after()
    {
        var passwd = Path.Combine(_outside, "passwd");
        File.WriteAllText(passwd, $"root:x:0:0:{Secret}:/root:/bin/bash\n");
        await Refused("--model", passwd, "outside the data roots");
        await Refused("--architecture", passwd, "outside the data roots");

        var fifo = Path.Combine(cluster.Scratch.FullName, "pipe.npy");
        Assert.Equal(0, mkfifo(fifo, 0x180));
        await Refused("--labels", fifo, "is a FIFO; expected a regular file");

        var good = await TestProcess.Fisher(["estimate", .. cluster.ClientArguments, "--inputs", "200", "--shards", "2", "--estimators", "exact", "--no-progress",
            "--out", Path.Combine(cluster.Scratch.FullName, "good-after-refusals")]);
        Assert.True(good.ExitCode == 0, $"{good.Describe()}\n{cluster.Logs()}");
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);
}
