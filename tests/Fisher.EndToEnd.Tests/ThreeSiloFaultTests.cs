using System.Diagnostics;
using Xunit.Abstractions;

namespace Fisher.EndToEnd.Tests;

/// <summary>
/// Issue 13 acceptance 3 and 4 on three Fisher.Silo processes with Redis membership (a cluster per test: each test
/// kills silos or Redis). Jobs use <c>--grouping tensor --shards 1</c>: six tasks (one per tensor of the sample MLP),
/// each group's aggregator merges exactly one partial, so the result cannot depend on merge order and must be bit for
/// bit the undisturbed embedded run's.
/// </summary>
public sealed class ThreeSiloFaultTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>Short leases so lost workers are noticed in seconds.</summary>
    private static readonly string[] FastLeases = ["--Fisher:Grains:LeaseDuration=00:00:05"];

    private static readonly string[] SixTasks = ["--grouping", "tensor", "--shards", "1", "--estimators", "all", "--precision", "float64", "--seed", "11"];

    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("fisher-e2e-faults-");
    private readonly HttpClient _http = new() { Timeout = TestTimeouts.Request };

    /// <summary>Acceptance 4: with 3 silos and 6 tasks, every silo's workers computed rows (fisher_worker_samples_total on its /metrics).</summary>
    [Fact]
    public async Task Every_silo_computes_tasks_of_a_six_task_job()
    {
        var cluster = new SiloCluster(3);
        await cluster.InitializeAsync();
        try
        {
            var run = await Fisher(["estimate", .. SixTasks, "--draws", "2", "--inputs", "600", "--no-progress", .. cluster.ClientArguments,
                "--job-id", $"{cluster.JobPrefix}-spread", "--out", Path.Combine(_scratch.FullName, "spread")]);
            Assert.True(run.ExitCode == 0, run.Describe() + cluster.Logs());
            Assert.Contains("6 tasks", run.Stdout, StringComparison.Ordinal);
            var samples = await Task.WhenAll(cluster.Silos.Select(s => SiloCluster.Metric(_http, s, "fisher_worker_samples_total")));
            output.WriteLine($"fisher_worker_samples_total per silo: [{string.Join(", ", samples)}]");
            // 600 inputs x 6 groups, each row once per attempt: every silo did some, and together at least all.
            Assert.True(samples.All(n => n > 0), $"a silo computed nothing: fisher_worker_samples_total per silo [{string.Join(", ", samples)}]\n{cluster.Logs()}");
            Assert.True(samples.Sum() >= 600 * 6, $"samples [{string.Join(", ", samples)}] sum below 600 x 6");
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    /// <summary>
    /// Acceptance 3a: kill -9 the silo of the job's coordinator while the job runs; <c>fisher estimate --cluster</c>
    /// keeps following (the coordinator reactivates on another silo), exits 0, and its tensors equal the undisturbed
    /// embedded run's bit for bit.
    /// </summary>
    [Fact]
    public async Task Killing_the_coordinators_silo_the_cli_keeps_following_and_the_result_is_bit_identical()
    {
        string[] job = [.. SixTasks, "--draws", "150", "--no-progress"];
        var reference = Fisher(["estimate", .. job, "--out", Path.Combine(_scratch.FullName, "undisturbed")]);
        var cluster = new SiloCluster(3, FastLeases);
        await cluster.InitializeAsync();
        try
        {
            using var cli = TestProcess.Start(TestProcess.FisherPath, ["estimate", .. job, .. cluster.ClientArguments,
                "--job-id", $"{cluster.JobPrefix}-failover", "--out", Path.Combine(_scratch.FullName, "failover")]);
            int coordinator = await CoordinatorSilo(cluster, cli);
            cluster.Kill(coordinator);
            output.WriteLine($"killed silo {coordinator}, the coordinator's");
            var result = await cli.WaitForExit(TestTimeouts.Job);
            output.WriteLine(result.Describe(4));
            Assert.True(result.ExitCode == 0, result.Describe() + cluster.Logs());
            var undisturbed = await reference;
            Assert.True(undisturbed.ExitCode == 0, undisturbed.Describe());
            ResultAssert.BitIdentical(Path.Combine(_scratch.FullName, "undisturbed"), Path.Combine(_scratch.FullName, "failover"), "undisturbed run");
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    /// <summary>Acceptance 3b: every silo is killed while the job runs and started again; the CLI follows the job to completion.</summary>
    [Fact]
    public async Task Killing_every_silo_and_restarting_them_the_job_resumes_and_completes()
    {
        string[] job = [.. SixTasks, "--draws", "100", "--no-progress"];
        var cluster = new SiloCluster(3, FastLeases);
        await cluster.InitializeAsync();
        try
        {
            using var cli = TestProcess.Start(TestProcess.FisherPath, ["estimate", .. job, .. cluster.ClientArguments,
                "--job-id", $"{cluster.JobPrefix}-restart", "--out", Path.Combine(_scratch.FullName, "restarted")]);
            await CoordinatorSilo(cluster, cli);
            for (int i = 0; i < cluster.Silos.Count; i++)
                cluster.Kill(i);
            for (int i = 0; i < cluster.Silos.Count; i++)
                cluster.Restart(i);
            var result = await cli.WaitForExit(TestTimeouts.Job);
            output.WriteLine(result.Describe(4));
            Assert.True(result.ExitCode == 0, result.Describe() + cluster.Logs());
            Assert.True(File.Exists(Path.Combine(_scratch.FullName, "restarted", "fisher.safetensors")), result.Describe());
            Assert.Contains("6 tasks", result.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    /// <summary>
    /// Acceptance 3c: Redis restarts without its data while a job runs: every silo's /health/ready turns 503, and the
    /// CLI following the job says the cluster lost it (exit code 4) within a bounded time instead of hanging.
    /// </summary>
    [Fact]
    public async Task Redis_restarting_empty_makes_silos_unready_and_the_client_reports_the_lost_job()
    {
        string[] job = [.. SixTasks, "--draws", "400", "--no-progress"];
        var cluster = new SiloCluster(3, FastLeases);
        await cluster.InitializeAsync();
        try
        {
            var id = $"{cluster.JobPrefix}-reset";
            using var cli = TestProcess.Start(TestProcess.FisherPath, ["estimate", .. job, .. cluster.ClientArguments, "--job-id", id, "--out", Path.Combine(_scratch.FullName, "reset")]);
            await CoordinatorSilo(cluster, cli);
            cluster.RestartRedisEmpty();
            var clock = Stopwatch.StartNew();
            await Until(async () => (await Task.WhenAll(cluster.Silos.Select(s => SiloCluster.Answers(_http, s, "health/ready")))).All(r => r is null),
                TestTimeouts.Settle, "every silo's /health/ready to answer 503 after Redis restarted empty", cluster);
            output.WriteLine($"all silos unready {clock.Elapsed.TotalSeconds:F1} s after the Redis restart");
            var result = await cli.WaitForExit(TestTimeouts.Job);
            output.WriteLine($"the CLI ended {clock.Elapsed.TotalSeconds:F1} s after the Redis restart:\n{result.Describe(5)}");
            Assert.True(result.ExitCode == 4, result.Describe() + cluster.Logs());
            Assert.Contains($"job {id}: the cluster has no record of it any more; its state store was reset", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal); // no stack trace
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    /// <summary>
    /// Acceptance 3d: a job whose task ends its silo's process (the test fault CrashOnInputsNamed) fails once the task
    /// has lost MaxTaskAttempts (2) workers, while crashed silos are restarted as a supervisor would; after every silo
    /// is restarted again it stays Failed and no worker of it runs.
    /// </summary>
    [Fact]
    public async Task A_job_that_kills_its_silos_fails_after_the_allowed_attempts_and_does_not_come_back()
    {
        var poison = Path.Combine(_scratch.FullName, "poison-images.gz");
        File.Copy(Path.Combine(TestProcess.RepoRoot, "samples", "fashion-mnist", "t10k-2000-images-idx3-ubyte.gz"), poison);
        var cluster = new SiloCluster(3, [.. FastLeases, "--Fisher:Grains:MaxTaskAttempts=2", "--Fisher:Grains:TestFaults:CrashOnInputsNamed=poison-images.gz"]);
        await cluster.InitializeAsync();
        try
        {
            var id = $"{cluster.JobPrefix}-poison";
            string[] on = cluster.ClientArguments;
            var submitted = await Fisher(["submit", "--data", poison, "--inputs", "100", "--shards", "1", "--grouping", "all", "--job-id", id, .. on]);
            Assert.True(submitted.ExitCode == 0, submitted.Describe() + cluster.Logs());
            using var watch = TestProcess.Start(TestProcess.FisherPath, ["watch", id, .. on]);
            int restarts = 0;
            var clock = Stopwatch.StartNew();
            while (!watch.HasExited && clock.Elapsed < TestTimeouts.Job)
            {
                restarts += cluster.RestartExited(); // a supervisor's job
                await Task.Delay(500);
            }
            var watched = await watch.WaitForExit(TestTimeouts.Stop);
            output.WriteLine($"{restarts} silo restarts; watch: {watched.Describe(3)}");
            Assert.True(watched.ExitCode == 1, watched.Describe() + cluster.Logs());
            Assert.Contains($"{id}: Failed", watched.Stdout, StringComparison.Ordinal);
            Assert.Contains("lost its worker 2 times", watched.Stdout, StringComparison.Ordinal);
            Assert.True(restarts >= 2, $"expected the poison task to take down a silo on each of its 2 attempts, {restarts} restarts\n{cluster.Logs()}");

            // The whole cluster restarts: the job is still Failed and nothing of it runs again.
            for (int i = 0; i < cluster.Silos.Count; i++)
            {
                if (!cluster.Silos[i].Process.HasExited)
                    cluster.Kill(i);
            }
            cluster.RestartExited();
            await cluster.WaitUntilServing(TestTimeouts.Startup);
            var status = await Fisher(["status", id, .. on]);
            Assert.True(status.ExitCode == 0, status.Describe() + cluster.Logs());
            Assert.Contains($"{id}: Failed", status.Stdout, StringComparison.Ordinal);
            await Task.Delay(TestTimeouts.Of(TimeSpan.FromSeconds(6))); // longer than a lease: a re-dispatch would have happened
            Assert.True(cluster.Silos.All(s => !s.Process.HasExited), "a silo died after the restart\n" + cluster.Logs());
            Assert.True(cluster.WorkerActivations(id).Sum() == 0, $"workers of the failed job ran after the restart\n{cluster.Logs()}");
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    /// <summary>Waits until the job runs tasks on the cluster; returns the index of the silo whose fisher_job_active is 1 (its coordinator's).</summary>
    private async Task<int> CoordinatorSilo(SiloCluster cluster, TestProcess cli)
    {
        int found = -1;
        await Until(async () =>
        {
            Assert.False(cli.HasExited, $"the CLI ended before the job could be disturbed:\n{cli.Describe()}");
            var active = await Task.WhenAll(cluster.Silos.Select(s => SiloCluster.Metric(_http, s, "fisher_job_active")));
            var tasks = await Task.WhenAll(cluster.Silos.Select(s => SiloCluster.Metric(_http, s, "fisher_worker_tasks_active")));
            found = Array.IndexOf(active, 1.0);
            return found >= 0 && tasks.Sum() >= 3;
        }, TestTimeouts.Settle, "the job's coordinator and workers to run", cluster);
        return found;
    }

    private static async Task Until(Func<Task<bool>> condition, TimeSpan timeout, string what, SiloCluster cluster)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"{TestTimeouts.Exceeded(timeout, what)}\n{cluster.Logs()}");
            await Task.Delay(200);
        }
    }

    private static Task<ProcessResult> Fisher(string[] args) => TestProcess.Run(TestProcess.FisherPath, args, TestTimeouts.Job);

    public void Dispose()
    {
        _http.Dispose();
        try
        {
            _scratch.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
