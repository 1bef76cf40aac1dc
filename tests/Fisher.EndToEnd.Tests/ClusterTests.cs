using System.Text.Json;
using Fisher.Data;
using Xunit.Abstractions;

namespace Fisher.EndToEnd.Tests;

/// <summary>The fisher CLI against two Fisher.Silo processes with Redis membership (shared by the tests of this class).</summary>
public sealed class ClusterTests(TwoSiloCluster cluster, ITestOutputHelper output) : IClassFixture<TwoSiloCluster>
{
    /// <summary>
    /// Issue acceptance: the same job on the two-silo cluster and on the embedded silo gives the same tensors (to
    /// float32 rounding) and the same summary; the silo logs show every task's worker activation.
    /// </summary>
    [Fact]
    public async Task Estimate_on_two_silos_equals_the_embedded_silo()
    {
        string clusterOut = Path.Combine(cluster.Scratch.FullName, "cluster"), embeddedOut = Path.Combine(cluster.Scratch.FullName, "embedded");
        string[] job = ["estimate", "--precision", "float64", "--seed", "7", "--draws", "2", "--shards", "4", "--estimators", "all", "--no-progress"];
        var jobId = $"{cluster.JobPrefix}-estimate";
        var onCluster = TestProcess.Fisher([.. job, .. cluster.ClientArguments, "--job-id", jobId, "--out", clusterOut]);
        var embedded = TestProcess.Fisher([.. job, "--out", embeddedOut]);
        await Task.WhenAll(onCluster, embedded); // both processes have ended (or were killed) before anything is asserted
        var c = await onCluster;
        var e = await embedded;
        Assert.True(c.ExitCode == 0, $"cluster run failed:\n{c.Describe()}\n{cluster.Logs()}");
        Assert.True(e.ExitCode == 0, $"embedded run failed:\n{e.Describe()}");
        string context = $"\n{c.Describe(15)}\n{e.Describe(15)}";

        var a = Safetensors.Read(Path.Combine(clusterOut, "fisher.safetensors")).Tensors;
        var b = Safetensors.Read(Path.Combine(embeddedOut, "fisher.safetensors")).Tensors;
        Assert.Equal(b.Keys.Order(StringComparer.Ordinal), a.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("0.weight.exact", a.Keys);
        Assert.Contains("4.bias.empirical_var", a.Keys);
        foreach (var (name, expected) in b)
            AssertClose(name, expected, a[name], 1e-6, context);

        using var sa = JsonDocument.Parse(File.ReadAllText(Path.Combine(clusterOut, "summary.json")));
        using var sb = JsonDocument.Parse(File.ReadAllText(Path.Combine(embeddedOut, "summary.json")));
        foreach (var s in new[] { sa, sb })
        {
            Assert.Equal("Completed", s.RootElement.GetProperty("state").GetString());
            Assert.Equal(2000, s.RootElement.GetProperty("inputs").GetInt64());
            Assert.Equal(2, s.RootElement.GetProperty("drawsPerInput").GetInt32());
            Assert.Equal(12, s.RootElement.GetProperty("tasks").GetInt32());
        }
        Assert.Equal(Groups(sb), Groups(sa));
        Assert.Equal(["layer1", "layer2", "layer3"], Groups(sa).Select(g => g.Split(':')[0]));

        // Which silo ran which task: every silo logs its grain activations (Orleans.Grain at Debug).
        var activations = cluster.WorkerActivations(jobId);
        output.WriteLine($"shard-worker activations of {jobId} per silo: [{string.Join(", ", activations)}]");
        Assert.True(activations.Sum() >= 12, $"expected at least 12 shard-worker activations of {jobId} in the silo logs, found [{string.Join(", ", activations)}]\n{cluster.Logs()}");
        // Shard workers use activation-count placement: the work spreads over both silos (with 12 tasks, all on one
        // silo would be a placement regression, not chance).
        Assert.True(activations.All(n => n > 0), $"every task ran on one silo: [{string.Join(", ", activations)}]");
    }

    /// <summary>submit, watch, status, fetch and cancel, each as its own process against the running cluster.</summary>
    [Fact]
    public async Task Submit_watch_status_fetch_and_cancel()
    {
        string[] on = cluster.ClientArguments;
        string[] shortJob = ["--inputs", "400", "--shards", "2", "--estimators", "i1,exact", "--seed", "3"];

        // submit prints the (generated, unguessable) job id and the job's access token on stdout, and saves the token
        // for its user only; watch, status and fetch below find it there.
        var submitted = await Fisher(["submit", .. shortJob, .. on]);
        Assert.True(submitted.ExitCode == 0, submitted.Describe() + cluster.Logs());
        var (id, token) = IdAndToken(submitted);
        Assert.Matches(@"^\d{8}-\d{6}-[a-z2-7]{26}$", id);
        var saved = Path.Combine(TestProcess.ConfigHome, "fisher", "jobs", id + ".token");
        Assert.Equal(token, File.ReadAllText(saved).Trim());
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(saved));
        await AssertTokenNeeded(id, token, on);

        var watched = await Fisher(["watch", id, .. on]);
        Assert.True(watched.ExitCode == 0, watched.Describe() + cluster.Logs());
        Assert.Contains($"{id}: Completed", watched.Stdout, StringComparison.Ordinal);

        var status = await Fisher(["status", id, .. on]);
        Assert.True(status.ExitCode == 0, status.Describe());
        Assert.Contains($"{id}: Completed, 100.0%", status.Stdout, StringComparison.Ordinal);

        var folder = Path.Combine(cluster.Scratch.FullName, "fetched");
        var fetched = await Fisher(["fetch", id, "--out", folder, .. on]);
        Assert.True(fetched.ExitCode == 0, fetched.Describe());
        var tensors = Safetensors.Read(Path.Combine(folder, "fisher.safetensors")).Tensors;
        Assert.Equal(new long[] { 128, 784 }, tensors["0.weight.i1"].Shape);
        Assert.Contains("4.bias.exact_var", tensors.Keys);
        Assert.DoesNotContain("0.weight.i2", tensors.Keys);
        using (var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "summary.json"))))
        {
            Assert.Equal(id, summary.RootElement.GetProperty("jobId").GetString());
            Assert.Equal(400, summary.RootElement.GetProperty("inputs").GetInt64());
        }

        // A long job is cancelled while it runs...
        var longId = $"{cluster.JobPrefix}-long";
        var started = await Fisher(["submit", "--inputs", "2000", "--draws", "5000", "--estimators", "all", "--batch-size", "1", "--job-id", longId, .. on]);
        Assert.True(started.ExitCode == 0, started.Describe());
        Assert.Equal(longId, IdAndToken(started).Id);
        var cancelled = await Fisher(["cancel", longId, .. on]);
        Assert.True(cancelled.ExitCode == 0, cancelled.Describe());
        Assert.Contains($"{longId}: Cancelled", cancelled.Stdout, StringComparison.Ordinal);
        var after = await Fisher(["status", longId, .. on]);
        Assert.True(after.ExitCode == 0, after.Describe());
        Assert.Contains($"{longId}: Cancelled", after.Stdout, StringComparison.Ordinal);
        var watchCancelled = await Fisher(["watch", longId, .. on]);
        Assert.True(watchCancelled.ExitCode == 1, watchCancelled.Describe());
        var fetchCancelled = await Fisher(["fetch", longId, "--out", Path.Combine(cluster.Scratch.FullName, "never"), .. on]);
        Assert.True(fetchCancelled.ExitCode == 2 && CliFailureTests.OneErrorLine(fetchCancelled).Contains("Cancelled", StringComparison.Ordinal), fetchCancelled.Describe());

        // A job the cluster has no record of: one line, exit code 4.
        var unknown = await Fisher(["status", $"{cluster.JobPrefix}-never-submitted", "--token", "any", .. on]);
        Assert.True(unknown.ExitCode == 4, unknown.Describe());
        Assert.Contains("the cluster has no record of it", CliFailureTests.OneErrorLine(unknown), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(cluster.Scratch.FullName, "never")));

        // ...and the silos keep serving: a following short job completes.
        var next = await Fisher(["estimate", .. shortJob, "--no-progress", "--job-id", $"{cluster.JobPrefix}-after-cancel", "--out", Path.Combine(cluster.Scratch.FullName, "after-cancel"), .. on]);
        Assert.True(next.ExitCode == 0, next.Describe() + cluster.Logs());
        Assert.True(File.Exists(Path.Combine(cluster.Scratch.FullName, "after-cancel", "fisher.safetensors")));
        foreach (var silo in cluster.Silos)
            Assert.False(silo.Process.HasExited, cluster.Logs());
    }

    private static Task<ProcessResult> Fisher(string[] args, IReadOnlyDictionary<string, string?>? environment = null) =>
        TestProcess.Run(TestProcess.FisherPath, args, TestTimeouts.Job, environment: environment);

    /// <summary>The two lines submit prints on stdout.</summary>
    private static (string Id, string Token) IdAndToken(ProcessResult submitted)
    {
        var lines = submitted.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.True(lines.Length == 2 && lines[1].Length >= 43, submitted.Describe());
        return (lines[0], lines[1]);
    }

    /// <summary>
    /// Without the job's token (a wrong one, or none found) status and cancel fail with one line and exit code 2 and
    /// change nothing; with it from FISHER_JOB_TOKEN (no saved file: another user's configuration) status works.
    /// </summary>
    private static async Task AssertTokenNeeded(string id, string token, string[] on)
    {
        string[][] commands = [["status"], ["cancel"], ["fetch", "--out", Path.Combine(TestProcess.ConfigHome, "never-fetched")]];
        foreach (var command in commands)
        {
            var denied = await Fisher([command[0], id, .. command[1..], "--token", "not-the-token", .. on]);
            Assert.True(denied.ExitCode == 2 && denied.Stderr.Contains($"job {id}: access denied (wrong or missing token)", StringComparison.Ordinal), denied.Describe());
        }
        var elsewhere = new Dictionary<string, string?> { ["XDG_CONFIG_HOME"] = Path.Combine(TestProcess.ConfigHome, "another-user") };
        var none = await Fisher(["status", id, .. on], elsewhere);
        Assert.True(none.ExitCode == 2 && none.Stderr.Contains($"job {id}: no token found", StringComparison.Ordinal), none.Describe());
        var fromVariable = await Fisher(["status", id, .. on], new Dictionary<string, string?>(elsewhere) { ["FISHER_JOB_TOKEN"] = token });
        Assert.True(fromVariable.ExitCode == 0 && !fromVariable.Stdout.Contains("Cancelled", StringComparison.Ordinal), fromVariable.Describe());
    }

    private static string[] Groups(JsonDocument summary) =>
        summary.RootElement.GetProperty("groups").EnumerateArray()
            .Select(g => $"{g.GetProperty("name").GetString()}:{g.GetProperty("size").GetInt64()}:{string.Join(",", g.GetProperty("parameters").EnumerateArray().Select(p => p.GetString()))}")
            .ToArray();

    /// <summary>Same shape and |a - b| &lt;= tolerance * max|b| over the tensor (float32 files: compare within float32 rounding).</summary>
    internal static void AssertClose(string name, NamedArray expected, NamedArray actual, double tolerance, string context)
    {
        Assert.True(expected.Shape.SequenceEqual(actual.Shape), $"{name}: shape {actual.ShapeText}, expected {expected.ShapeText}{context}");
        double scale = 0, worst = 0;
        int at = -1;
        for (int i = 0; i < expected.Data.Length; i++)
        {
            scale = Math.Max(scale, Math.Max(Math.Abs(expected.Data[i]), Math.Abs(actual.Data[i])));
            double d = Math.Abs(expected.Data[i] - actual.Data[i]);
            if (!(d <= worst))
            {
                worst = d;
                at = i;
            }
        }
        Assert.True(worst <= tolerance * scale,
            $"{name}: max |difference| {worst:G6} at element {at} ({(at >= 0 ? actual.Data[at] : 0):G9} vs {(at >= 0 ? expected.Data[at] : 0):G9}) exceeds {tolerance:G2} x max|value| {scale:G6}{context}");
    }
}
