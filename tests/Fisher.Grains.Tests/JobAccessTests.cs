using System.Runtime.InteropServices;
using Fisher.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using Fisher.Data;
using Fisher.Estimators;
using Fisher.Results;

namespace Fisher.Grains.Tests;

/// <summary>
/// Issue 13, acceptance 1: a client of the cluster without a job's token cannot read, fetch, cancel or fail that job;
/// forged partials (unknown task, wrong attempt, wrong lease key, wrong length, wrong rows, replayed) and forged worker
/// assignments are rejected and counted, and the job's result is bit-identical to an undisturbed run of the same spec:
/// the float32 result tensors (what fisher.safetensors holds) byte for byte, and the float64 moments they come from to
/// 1e-12 (two undisturbed runs differ in the last bit of a few float64 moments: libtorch's CPU kernels are not bitwise
/// reproducible across calls).
/// </summary>
[Collection("clusters")]
public sealed class JobAccessTests(LongLeaseCluster fixture) : IClassFixture<LongLeaseCluster>
{
    /// <summary>One shard per group (each aggregator merges one partial), one task at a time (forged messages meet tasks not yet dispatched or still computing).</summary>
    private static readonly JobSpec Spec = TestData.Spec(inputs: 1000, shards: 1, grouping: "layer", quantities: "i1,exact", draws: 2)
        with { BatchSize = 8, MaxConcurrentTasks = 1 };

    private static Task<Outcome>? _undisturbed;

    private IGrainFactory Grains => fixture.Cluster.GrainFactory;

    /// <summary>The moments of an undisturbed run of <see cref="Spec"/> on this cluster (run once per class).</summary>
    private Task<Outcome> Undisturbed() => _undisturbed ??= Run();

    private async Task<Outcome> Run()
    {
        var status = await TestData.RunToEnd(Grains, "undisturbed-" + Guid.NewGuid().ToString("N")[..8], Spec, TestTimeouts.Job);
        Assert.True(status.State == JobState.Completed, status.Error);
        return Outcome.Of(status, await Submitter.Fetch(Grains, status));
    }

    [Fact]
    public async Task Without_its_token_a_client_cannot_read_fetch_cancel_or_fail_a_job()
    {
        var expected = await Undisturbed();
        using var counter = new RejectionCounter();
        var id = "owned-" + Guid.NewGuid().ToString("N")[..8];
        var job = Grains.GetGrain<IFisherJobGrain>(id);
        var ticket = await Submitter.Submit(job, Spec);
        Assert.True(ticket.Status.State == JobState.Running, ticket.Status.Error);
        var token = ticket.Token!;
        Assert.True(token.Length >= 43, $"a token of {token.Length} characters carries fewer than 256 bits");
        var otherJob = Grains.GetGrain<IFisherJobGrain>("other-" + Guid.NewGuid().ToString("N")[..8]);
        var otherToken = (await otherJob.SubmitAsync(Spec with { Inputs = 64 })).Token!;
        string?[] wrong = [null, "", "x", otherToken, token[..^1], token + "A"];

        foreach (var guess in wrong)
            await AssertDenied(job, id, token, guess!);
        // A worker's messages under guessed lease keys, for every attempt that may exist: ignored.
        for (int attempt = 1; attempt <= 3; attempt++)
        {
            await job.TaskFailedAsync("s0g0", attempt, "guessed-" + attempt, "forged failure");
            Assert.False(await job.HeartbeatAsync("s0g0", attempt, "guessed-" + attempt, 0));
            await job.TaskCompletedAsync("s0g1", attempt, "guessed-" + attempt);
        }
        // The token is given out once: submitting the same job again gets none, another spec an error.
        Assert.Null((await job.SubmitAsync(Spec)).Token);
        await Assert.ThrowsAsync<ArgumentException>(() => job.SubmitAsync(Spec with { Seed = 1 }));

        var status = await TestData.RunToEnd(Grains, id, Spec, TestTimeouts.Job);
        Assert.True(status.State == JobState.Completed, status.Error);
        Assert.Null(status.Error);
        Outcome.Of(status, await Submitter.Fetch(Grains, status)).AssertSame(expected);
        Assert.Equal(JobState.Completed, (await job.CancelAsync(token)).State); // with the token; a finished job stays so

        Assert.True(counter.Job("access") >= 2 * wrong.Length, $"access refusals counted: {counter.Job("access")}");
        Assert.True(counter.Job("read") >= 4 * wrong.Length, $"read refusals counted: {counter.Job("read")}");
        Assert.True(counter.Job("failure") >= 3 && counter.Job("heartbeat") >= 3 && counter.Job("completion") >= 3,
            $"worker refusals counted: failure {counter.Job("failure")}, heartbeat {counter.Job("heartbeat")}, completion {counter.Job("completion")}");

        // With its token the submitter cancels (another job's token does not); a job never started is Unknown to anyone.
        var cancelled = Grains.GetGrain<IFisherJobGrain>("cancelled-" + Guid.NewGuid().ToString("N")[..8]);
        var cancelToken = (await cancelled.SubmitAsync(Spec)).Token!;
        await Assert.ThrowsAsync<JobAccessDeniedException>(() => cancelled.CancelAsync(token));
        Assert.Equal(JobState.Running, (await cancelled.GetStatusAsync(cancelToken)).State);
        Assert.Equal(JobState.Cancelled, (await cancelled.CancelAsync(cancelToken)).State);
        Assert.Equal(JobState.Cancelled, (await cancelled.GetStatusAsync(cancelToken)).State);
        Assert.Equal(JobState.Unknown, (await Grains.GetGrain<IFisherJobGrain>("never-" + Guid.NewGuid().ToString("N")[..8]).GetStatusAsync("")).State);
    }

    /// <summary>Status, cancel, every aggregator read and a fetch with <paramref name="guess"/> are refused with one message, and the job runs on.</summary>
    private async Task AssertDenied(IFisherJobGrain job, string id, string token, string guess)
    {
        string message = $"job {id}: access denied (wrong or missing token)";
        Assert.Equal(message, (await Assert.ThrowsAsync<JobAccessDeniedException>(() => job.GetStatusAsync(guess))).Message);
        Assert.Equal(message, (await Assert.ThrowsAsync<JobAccessDeniedException>(() => job.CancelAsync(guess))).Message);
        var aggregator = Grains.GetGrain<IMomentsAggregatorGrain>($"{id}/0");
        await Assert.ThrowsAsync<JobAccessDeniedException>(() => aggregator.GetInfoAsync(guess));
        await Assert.ThrowsAsync<JobAccessDeniedException>(() => aggregator.ReadAsync(guess, "0.bias.i1", 0, 1));
        await Assert.ThrowsAsync<JobAccessDeniedException>(() => aggregator.GetPrecisionAsync(guess, "i1"));
        var status = new JobStatus { JobId = id, State = JobState.Completed, Groups = ["layer1", "layer2", "layer3"] };
        await Assert.ThrowsAsync<JobAccessDeniedException>(() => JobResults.Fetch(Grains, status, guess));
        Assert.False(await job.AuthorizeReadAsync(guess));
        var state = (await job.GetStatusAsync(token)).State;
        Assert.True(state is JobState.Running or JobState.Completed, $"a refused call changed the job: {state}");
    }

    [Fact]
    public async Task Forged_partials_and_assignments_are_rejected_and_the_result_is_bit_identical()
    {
        var expected = await Undisturbed();
        using var counter = new RejectionCounter();
        var id = AssignmentCapture.Prefix + Guid.NewGuid().ToString("N")[..8];
        var job = Grains.GetGrain<IFisherJobGrain>(id);
        Assert.Equal(JobState.Running, (await job.StartAsync(Spec)).State);

        // Assignments sent over and over to the workers of tasks not yet dispatched (one task runs at a time): under a
        // guessed lease key with another seed, and another job's. A worker that took one would not take the
        // coordinator's when it comes: the task would stall until its lease expired.
        var forged = new TaskAssignment(id, "s0g1", 1, Spec with { Seed = 999 }, 0, 1000, 1, "layer2", ["2.weight", "2.bias"], "forged-key");
        using var stopFlood = new CancellationTokenSource();
        var flood = Task.Run(async () =>
        {
            while (!stopFlood.IsCancellationRequested)
            {
                await Grains.GetGrain<IShardWorkerGrain>($"{id}/s0g1/1").StartAsync(forged);
                await Grains.GetGrain<IShardWorkerGrain>($"{id}/s0g2/1").StartAsync(forged with { JobId = "other", TaskId = "s0g2" });
                await Task.Delay(20);
            }
        });

        // The first task's real lease, as an eavesdropper would see it, while its worker computes.
        var real = await CapturedAsync(id, "s0g0", 1);
        var aggregator = Grains.GetGrain<IMomentsAggregatorGrain>($"{id}/0");
        MomentSlice Bias(int length) => new("0.bias.i1", 1000, 0, length, new double[length], new double[length]);
        PartialChunk Chunk(string task, int attempt, string key, MomentSlice slice, long inputs = 1000) => new(task, attempt, 0, 1, inputs, [slice], key);
        var attempts = new (string What, PartialChunk Chunk)[]
        {
            ("unknown task", Chunk("s9g0", 1, real.LeaseKey, Bias(128))),
            ("wrong attempt", Chunk("s0g0", 2, real.LeaseKey, Bias(128))),
            ("wrong lease key", Chunk("s0g0", 1, "guessed-key", Bias(128))),
            ("another task's lease key", Chunk("s0g1", 1, real.LeaseKey, Bias(128))),
            ("wrong length", Chunk("s0g0", 1, real.LeaseKey, Bias(127))),
            ("wrong rows", Chunk("s0g0", 1, real.LeaseKey, Bias(128), inputs: 999)),
        };
        foreach (var (what, chunk) in attempts)
            Assert.True(MergeOutcome.Rejected == await aggregator.AddChunkAsync(chunk), $"{what}: not rejected");

        var status = await TestData.RunToEnd(Grains, id, Spec, TestTimeouts.Job);
        await stopFlood.CancelAsync();
        await flood;
        Assert.True(status.State == JobState.Completed, status.Error);
        // The real partial, replayed: merged at most once.
        var sent = AssignmentCapture.Chunks(id, "s0g0", 1);
        Assert.NotEmpty(sent);
        Assert.Equal(MergeOutcome.Duplicate, await aggregator.AddChunkAsync(sent[0]));

        // The forged assignments neither took a worker nor stalled a task: the coordinator's first attempts did the work.
        Assert.True(status.Redispatches == 0, $"{status.Redispatches} re-dispatches; first attempts shipped: s0g1 {AssignmentCapture.Chunks(id, "s0g1", 1).Length} chunks, s0g2 {AssignmentCapture.Chunks(id, "s0g2", 1).Length}");
        var groups = await Submitter.Fetch(Grains, status);
        Assert.All(groups, g => Assert.Equal(1000, g.Inputs));
        Assert.Equal(["s0g0", "s0g1", "s0g2"], groups.SelectMany(g => g.MergedTasks).Order(StringComparer.Ordinal));
        Outcome.Of(status, groups).AssertSame(expected);
        Assert.True(counter.Aggregator("rejected") >= attempts.Length, $"aggregator rejections counted: {counter.Aggregator("rejected")}");
        Assert.True(counter.Aggregator("duplicate") >= 1, "the replay was not counted");
        Assert.True(counter.Job("partial") >= 4, $"coordinator partial refusals counted: {counter.Job("partial")}");
        Assert.True(counter.Job("heartbeat") >= 1 && counter.Job("assignment") >= 1,
            $"forged assignments counted: heartbeat {counter.Job("heartbeat")}, assignment {counter.Job("assignment")}");
    }

    /// <summary>Waits until the worker of (task, attempt) has received its assignment from the coordinator.</summary>
    private static async Task<TaskAssignment> CapturedAsync(string id, string task, int attempt)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (AssignmentCapture.Assignments(id, task, attempt).FirstOrDefault() is { } assignment)
                return assignment;
            Assert.True(clock.Elapsed < TestTimeouts.Settle, TestTimeouts.Exceeded(TestTimeouts.Settle, $"the assignment of {task}/{attempt}"));
            await Task.Delay(5);
        }
    }

    /// <summary>A finished job's float64 moments and the float32 result tensors assembled from them.</summary>
    private sealed record Outcome(Dictionary<string, Moments> Moments, Dictionary<string, float[]> Tensors)
    {
        public static Outcome Of(JobStatus status, IReadOnlyList<GroupMoments> groups) => new(
            TestData.Flatten(groups),
            JobResultAssembler.Assemble(status, ModelArchitecture.Read(status.Spec!.ArchitecturePath), groups).Tensors
                .ToDictionary(t => t.Name, t => t.Data.Select(d => (float)d).ToArray()));

        /// <summary>Every result tensor of this outcome equals <paramref name="expected"/>'s byte for byte; every moment to 1e-12.</summary>
        public void AssertSame(Outcome expected)
        {
            TestData.AssertSame(expected.Moments, Moments, 1e-12, "vs an undisturbed run");
            Assert.Equal(expected.Tensors.Keys.Order(StringComparer.Ordinal), Tensors.Keys.Order(StringComparer.Ordinal));
            foreach (var (name, e) in expected.Tensors)
            {
                Assert.True(MemoryMarshal.AsBytes(e.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(Tensors[name].AsSpan())),
                    $"{name}: {e.Zip(Tensors[name]).Count(p => p.First != p.Second)} of {e.Length} values differ from the undisturbed run");
            }
        }
    }
}

/// <summary>
/// Three silos whose leases last <see cref="Lease"/>: a task re-dispatched there was stalled (a worker that took a forged
/// assignment would hold it that long), not merely slow on a loaded machine.
/// </summary>
public sealed class LongLeaseCluster : IAsyncLifetime
{
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(20);

    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _ = TestRedis.ConnectionString;
        var builder = new TestClusterBuilder(3);
        builder.AddSiloBuilderConfigurator<Configurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    private sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            new FisherSiloConfigurator().Configure(siloBuilder);
            siloBuilder.Services.Configure<FisherOptions>(o => o.LeaseDuration = Lease);
        }
    }
}
