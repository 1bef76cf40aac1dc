using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Fisher.Deploy.Tests;

/// <summary>
/// Issue 15 acceptance 3, "pods as processes": the prod overlay, rendered as the guide renders it, run without a cluster.
/// Redis and the silos start with exactly the environment, arguments, ports and volumes the rendered StatefulSet and
/// Deployment give their containers (<see cref="PodRuntime"/>: each pod a loopback address, each volume a folder, the
/// secrets made by the guide's own <c>kubectl create secret</c> commands); the Job's container command runs the sample
/// job against them and its result is bit for bit the embedded run's. Then a second Job (the same manifest under
/// another name) runs while one silo gets SIGTERM mid-job: the silo exits by itself within the pod's termination grace
/// period, the job completes with the same result, and its status shows the task handed back, not re-dispatched after
/// the lease (the prod lease is far longer than the job). Its Job pod is terminated too (an eviction): the job keeps
/// running, and the retried pod, running the same command, re-attaches to it with the token on the results volume.
/// </summary>
public sealed class PodsAsProcessesTests(ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo _scratch = Directory.CreateTempSubdirectory("fisher-pods-");
    private readonly HttpClient _http = new() { Timeout = TestTimeouts.Request };

    [Fact]
    public async Task The_prod_overlay_run_as_processes_gives_the_embedded_result_and_a_sigtermed_silo_hands_its_task_back()
    {
        var objects = Manifests.Overlay(Manifests.Prod);
        var jobManifest = Manifests.Job().OfKind("Job").Single();
        using var pods = new PodRuntime(objects, _scratch.FullName);
        pods.Programs["redis-server"] = Requirements.Program("redis-server", "redis-server");
        pods.Programs[Guide.SiloProgram] = TestProcess.SiloPath;
        pods.Programs[Guide.CliProgram] = TestProcess.FisherPath;
        foreach (var secret in await Guide.Secrets(_scratch.FullName))
            pods.AddSecret(secret);

        // The dataset claim is the volume the silos mount at their data root; here it is the repository's samples/.
        var silos = objects.Find("Deployment", ManifestPolicy.SiloWorkload) ?? throw new InvalidOperationException($"prod renders no Deployment {ManifestPolicy.SiloWorkload}");
        var siloContainer = silos.Container(ManifestPolicy.SiloContainer);
        var dataRoot = EnvValue(siloContainer, "Fisher__Grains__DataRoots__0");
        pods.AddClaim(ClaimMountedAt(silos, siloContainer, dataRoot), Path.Combine(TestProcess.RepoRoot, "samples"));

        // Redis first (its Service name must resolve when the silos' environment is expanded), on its pod address.
        var redisWorkload = objects.Find("StatefulSet", ManifestPolicy.RedisWorkload) ?? throw new InvalidOperationException($"prod renders no StatefulSet {ManifestPolicy.RedisWorkload}");
        var redisIp = pods.NextPodIp();
        var redis = pods.Start(redisWorkload, Container(redisWorkload), 0, redisIp,
            ["--bind", redisIp.ToString(), "--daemonize", "no"]); // the pod's own network namespace

        int replicas = (int)silos["spec"]!["replicas"]!;
        Assert.True(replicas >= 3, $"Deployment {ManifestPolicy.SiloWorkload} of the prod overlay has {replicas} replicas; this test runs 3 and SIGTERMs one");
        var siloPods = Enumerable.Range(0, 3).Select(i => pods.Start(silos, ManifestPolicy.SiloContainer, i, pods.NextPodIp())).ToList();
        foreach (var pod in siloPods)
            await Probe(pod, "readinessProbe", TestTimeouts.Startup, redis, siloPods);
        output.WriteLine($"redis at {redisIp}, silos at {string.Join(", ", siloPods.Select(p => p.Ip))}: ready");

        // The Job as written; the embedded reference is the same estimate without the cluster.
        var first = pods.Start(jobManifest, Container(jobManifest), 0, pods.NextPodIp());
        var reference = Embedded(first);
        var run = await first.Process.WaitForExit(TestTimeouts.Job);
        Assert.True(run.ExitCode == 0, run.Describe() + Logs(redis, siloPods));
        var referenceRun = await reference;
        Assert.True(referenceRun.ExitCode == 0, referenceRun.Describe());
        ResultAssert.BitIdentical(Path.Combine(_scratch.FullName, "embedded"), first.Option("--out"), "embedded run");

        // The same Job under another name; SIGTERM to a silo that runs one of its tasks.
        var second = jobManifest.DeepClone().AsObject();
        second["metadata"]!["name"] = (string)jobManifest["metadata"]!["name"]! + "-sigterm";
        var sigtermed = pods.Start(second, Container(second), 0, pods.NextPodIp());
        Assert.NotEqual(first.Option("--job-id"), sigtermed.Option("--job-id"));
        var victim = await SiloRunningATask(siloPods, sigtermed);
        var grace = TimeSpan.FromSeconds((long)silos.PodSpec()["terminationGracePeriodSeconds"]!);
        var clock = Stopwatch.StartNew();
        victim.Process.Signal(15);

        // The Job's pod is evicted meanwhile: the CLI stops following, the job runs on, and the retried pod re-attaches.
        sigtermed.Process.Signal(15);
        var evicted = await sigtermed.Process.WaitForExit(TestTimeouts.Stop);
        Assert.True(evicted.ExitCode == 130, "the SIGTERMed job pod did not stop as interrupted:\n" + evicted.Describe());
        Assert.Contains("keeps running on the cluster", evicted.Stderr, StringComparison.Ordinal);
        var retried = pods.Start(second, Container(second), 1, pods.NextPodIp());

        var stopped = await victim.Process.WaitForExit(grace);
        output.WriteLine($"SIGTERM to {victim.Name} ({victim.Ip}): exited with {stopped.ExitCode} after {clock.Elapsed.TotalSeconds:F1} s (grace {grace.TotalSeconds} s)");
        foreach (var line in (stopped.Stdout + "\n" + stopped.Stderr).Split('\n').Where(l => l.Contains("Stopping", StringComparison.Ordinal) || l.Contains("handed back", StringComparison.Ordinal) || l.Contains("could not hand", StringComparison.Ordinal)))
            output.WriteLine($"  {victim.Name}: {line.Trim()}");
        Assert.True(stopped.ExitCode == 0, "the SIGTERMed silo did not exit cleanly:\n" + stopped.Describe());
        Assert.True(clock.Elapsed < grace, $"the SIGTERMed silo took {clock.Elapsed} to exit, more than the pod's grace period {grace}");

        run = await retried.Process.WaitForExit(TestTimeouts.Job);
        Assert.True(run.ExitCode == 0, run.Describe() + Logs(redis, siloPods));
        Assert.Equal(sigtermed.Option("--out"), retried.Option("--out"));
        ResultAssert.BitIdentical(Path.Combine(_scratch.FullName, "embedded"), retried.Option("--out"), "embedded run");

        var status = await TestProcess.Run(TestProcess.FisherPath, ["status", sigtermed.Option("--job-id"), "--cluster", sigtermed.Option("--cluster")],
            TestTimeouts.Request, environment: sigtermed.Env.ToDictionary(p => p.Key, p => (string?)p.Value));
        output.WriteLine(status.Stdout);
        Assert.True(status.ExitCode == 0, status.Describe());
        var counts = System.Text.RegularExpressions.Regex.Match(status.Stdout, @"(\d+) re-dispatched, (\d+) handed back, (\d+) starts lost");
        Assert.True(counts.Success, "fisher status printed no re-dispatch counts:\n" + status.Stdout);
        // The coordinators' own account of every attempt that did not end normally, from every silo (the stopped one too).
        var coordinatorLines = string.Join("\n", siloPods.SelectMany(pod => (pod.Process.Stdout + "\n" + pod.Process.Stderr).Split('\n')
            .Where(l => l.Contains("lost its lease", StringComparison.Ordinal) || l.Contains("not confirmed", StringComparison.Ordinal)
                || l.Contains("handed back by", StringComparison.Ordinal))
            .Select(l => $"  {pod.Name}: {l.Trim()}")));
        output.WriteLine(coordinatorLines);
        // Hand-backs: the SIGTERMed silo's, at most one per task slot (none went back to it), and any of a worker Orleans
        // deactivated on a silo that stays (its grain directory partition left with the stopping silo).
        int handedBack = int.Parse(counts.Groups[2].Value, CultureInfo.InvariantCulture);
        int byVictim = coordinatorLines.Split('\n').Count(l => l.Contains("handed back by stopping silo S" + victim.Ip + ":", StringComparison.Ordinal));
        Assert.True(byVictim >= 1, "the SIGTERMed silo handed no task back:\n" + status.Stdout + "\n" + coordinatorLines + Logs(redis, siloPods));
        int slots = int.Parse(EnvValue(siloContainer, "Fisher__Grains__TasksPerSilo"), CultureInfo.InvariantCulture);
        Assert.True(byVictim <= slots, $"{byVictim} hand-backs from one silo of {slots} task slots: tasks went back to the stopping silo\n{status.Stdout}\n{coordinatorLines}");
        Assert.True(handedBack >= byVictim, $"fisher status counts {handedBack} hand-backs, the coordinators logged {byVictim} from the stopping silo\n{coordinatorLines}");
        int redispatched = int.Parse(counts.Groups[1].Value, CultureInfo.InvariantCulture);
        // No task waited for its lease. A start that reached the stopping silo as it left (a one-way call no worker took)
        // comes back after Fisher:Grains:StartTimeout instead: printed, and counted apart.
        output.WriteLine($"re-dispatched: {redispatched}, starts lost: {counts.Groups[3].Value}");
        Assert.True(redispatched == 0, "tasks waited for their leases to expire instead of being handed back:\n" + status.Stdout + "\n" + coordinatorLines + Logs(redis, siloPods));
    }

    /// <summary>The embedded run of the Job's estimate: its arguments without the cluster, job id and output folder.</summary>
    private Task<ProcessResult> Embedded(PodRuntime.Pod job)
    {
        var args = new List<string>();
        for (int i = 0; i < job.Args.Count; i++)
        {
            if (job.Args[i] is "--cluster" or "--gateway" or "--job-id" or "--out")
                i++;
            else
                args.Add(job.Args[i]);
        }
        return TestProcess.Run(TestProcess.FisherPath, [.. args, "--out", Path.Combine(_scratch.FullName, "embedded")], TestTimeouts.Job);
    }

    /// <summary>Polls the pod's probe (an httpGet on a named or numbered port) until it answers 200.</summary>
    private async Task Probe(PodRuntime.Pod pod, string probe, TimeSpan timeout, PodRuntime.Pod redis, IEnumerable<PodRuntime.Pod> silos)
    {
        var get = pod.Container[probe]?["httpGet"] ?? throw new InvalidOperationException($"{pod.Name}: no {probe}.httpGet");
        var port = get["port"]!.GetValueKind() == System.Text.Json.JsonValueKind.Number ? (int)get["port"]! : pod.Port((string)get["port"]!);
        var url = $"http://{pod.Ip}:{port}{(string)get["path"]!}";
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await _http.GetAsync(url);
                if (response.StatusCode == HttpStatusCode.OK)
                    return;
            }
            catch (HttpRequestException)
            {
            }
            Assert.False(pod.Process.HasExited, $"{pod.Name} exited before {url} ({probe}) answered 200:{Logs(redis, silos)}");
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"{TestTimeouts.Exceeded(timeout, $"{url} ({probe}) to answer 200")}{Logs(redis, silos)}");
            await Task.Delay(200);
        }
    }

    /// <summary>Waits (the job running) until a silo's /metrics shows a task attempt running on it.</summary>
    private async Task<PodRuntime.Pod> SiloRunningATask(IReadOnlyList<PodRuntime.Pod> silos, PodRuntime.Pod job)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(job.Process.HasExited, "the job ended before a silo could be stopped mid-job:\n" + job.Process.Describe());
            foreach (var silo in silos)
            {
                if (await Metric(silo, "fisher_worker_tasks_active") > 0)
                    return silo;
            }
            Assert.True(clock.Elapsed < TestTimeouts.Settle, TestTimeouts.Exceeded(TestTimeouts.Settle, "a silo to run a task of the job"));
            await Task.Delay(100);
        }
    }

    /// <summary>A metric's value on the silo's scrape target (the pod template's prometheus.io annotations).</summary>
    private async Task<double> Metric(PodRuntime.Pod silo, string name)
    {
        var annotations = silo.Container.Parent?.Parent?.Parent?["metadata"]?["annotations"];
        var port = annotations?["prometheus.io/port"] is { } p ? int.Parse((string)p!, CultureInfo.InvariantCulture) : silo.Port("http");
        var path = (string?)annotations?["prometheus.io/path"] ?? "/metrics";
        try
        {
            var text = await _http.GetStringAsync($"http://{silo.Ip}:{port}{path}");
            return text.Split('\n').Where(l => l.StartsWith(name + " ", StringComparison.Ordinal) || l.StartsWith(name + "{", StringComparison.Ordinal))
                .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    private static string Container(JsonObject workload) => (string)workload.Container()["name"]!;

    /// <summary>The literal value of a container's environment variable.</summary>
    private static string EnvValue(JsonObject container, string name) =>
        (string?)container["env"]?.AsArray().OfType<JsonObject>().SingleOrDefault(e => (string?)e["name"] == name)?["value"]
        ?? throw new InvalidOperationException($"container {(string?)container["name"]} sets no {name}");

    /// <summary>The claim of the volume <paramref name="container"/> mounts at <paramref name="path"/>.</summary>
    private static string ClaimMountedAt(JsonObject workload, JsonObject container, string path)
    {
        var mount = container["volumeMounts"]!.AsArray().OfType<JsonObject>().Single(m => (string?)m["mountPath"] == path);
        var volume = workload.PodSpec()["volumes"]!.AsArray().OfType<JsonObject>().Single(v => (string?)v["name"] == (string?)mount["name"]);
        return (string?)volume["persistentVolumeClaim"]?["claimName"] ?? throw new InvalidOperationException($"the volume at {path} is not a claim");
    }

    private static string Logs(PodRuntime.Pod redis, IEnumerable<PodRuntime.Pod> silos) =>
        "\n" + string.Join("\n", new[] { redis }.Concat(silos).Select(p => $"=== {p.Name}\n{TestProcess.Tail(p.Process.Stdout + p.Process.Stderr, 30)}"));

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
