using Fisher.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Fisher.Grains.Tests;

/// <summary>
/// Scaling a running cluster (docs: deploy/README.md). A silo stopped gracefully mid-job (SIGTERM, a Kubernetes
/// scale-down) hands its tasks back: the coordinator dispatches them again at once, so with a lease far longer than the
/// job no task waits for its lease, and the estimates are those of an undisturbed run. A silo added mid-job gets tasks.
/// Each test deploys its own cluster (they change its membership).
/// </summary>
[Collection("clusters")]
public sealed class ScalingTests
{
    // Every quantity, 4 draws, small batches, 2 shards x 3 layers = 6 tasks of 1,000 rows: a worker seen on a silo is
    // still computing when the silo is stopped (FaultToleranceTests found shorter tasks sometimes done by then).
    private static readonly JobSpec Spec = TestData.Spec(inputs: 2000, shards: 2, grouping: "layer", quantities: "all", draws: 4) with { BatchSize = 16 };

    [Fact]
    public async Task A_silo_stopped_mid_job_hands_its_tasks_back_at_once_and_the_estimates_are_unchanged()
    {
        // The membership is counted at the default period (10 s): the coordinator's list still names the stopping silo.
        await using var cluster = await Deploy<ScalingConfigurator>(silos: 3);
        var id = "scale-down-" + Guid.NewGuid().ToString("N")[..8];
        var job = cluster.GrainFactory.GetGrain<IFisherJobGrain>(id);
        var status = await job.StartAsync(Spec);
        Assert.True(status.State == JobState.Running, status.Error);

        var victim = await WaitForWorkerOn(cluster, job, cluster.SecondarySilos.Select(s => s.SiloAddress));
        await cluster.StopSiloAsync(cluster.SecondarySilos.First(s => s.SiloAddress.Equals(victim))); // graceful: the host's stop, as on SIGTERM

        status = await TestData.RunToEnd(cluster.GrainFactory, id, Spec, TestTimeouts.Job);
        Assert.True(status.State == JobState.Completed, status.Error);
        Assert.True(status.HandedBack >= 1, "the stopped silo handed no task back, though a worker of the job ran on it");
        // Each task it held came back once: none was placed on the stopping silo again (and handed back again).
        Assert.True(status.HandedBack <= new FisherOptions().TasksPerSilo, $"{status.HandedBack} hand-backs from one silo of {new FisherOptions().TasksPerSilo} task slots: tasks went back to the stopping silo");
        // The lease (LongLease) outlasts the job: a task the stop did not hand back would have waited for it and counted here.
        Assert.Equal(0, status.Redispatches);
        TestData.AssertSame(TestData.Direct(Spec), TestData.Flatten(await Submitter.Fetch(cluster.GrainFactory, status)), 1e-10, "after a graceful silo stop vs undisturbed direct run");
    }

    [Fact]
    public async Task A_silo_added_mid_job_gets_tasks()
    {
        await using var cluster = await Deploy<FastCountConfigurator>(silos: 1); // the new silo is counted within half a second
        var id = "scale-up-" + Guid.NewGuid().ToString("N")[..8];
        var job = cluster.GrainFactory.GetGrain<IFisherJobGrain>(id);
        // 8 shards x 3 layers = 24 tasks through the one silo's 2 slots: tasks still wait when the new silo is counted,
        // however warm the process is (with the 6 tasks of Spec, a warm run finished before the silo had joined).
        var spec = Spec with { Shards = 8 };
        var status = await job.StartAsync(spec);
        Assert.True(status.State == JobState.Running, status.Error);

        var added = await cluster.StartAdditionalSiloAsync();
        await WaitForWorkerOn(cluster, job, [added.SiloAddress]);

        status = await TestData.RunToEnd(cluster.GrainFactory, id, spec, TestTimeouts.Job);
        Assert.True(status.State == JobState.Completed, status.Error);
        TestData.AssertSame(TestData.Direct(spec), TestData.Flatten(await Submitter.Fetch(cluster.GrainFactory, status)), 1e-10, "after a silo joined mid-job vs direct run");
    }

    [Fact]
    public async Task A_start_no_worker_confirms_is_dispatched_again_after_the_start_timeout_not_the_lease()
    {
        // Every task's first start is dropped on arrival, as a one-way start that reached a stopping silo is: with a lease
        // far longer than the test's patience, only the start timeout can bring the job to an end.
        await using var cluster = await Deploy<LostStartConfigurator>(silos: 1);
        var id = LostStartConfigurator.Prefix + Guid.NewGuid().ToString("N")[..8];
        var status = await cluster.GrainFactory.GetGrain<IFisherJobGrain>(id).StartAsync(Spec);
        Assert.True(status.State == JobState.Running, status.Error);

        status = await TestData.RunToEnd(cluster.GrainFactory, id, Spec, TestTimeouts.Job);
        Assert.True(status.State == JobState.Completed, status.Error);
        Assert.Equal(status.TasksTotal, LostStartConfigurator.Dropped(id));
        Assert.Equal(status.TasksTotal, status.StartsLost); // each dropped start counted once, as a lost start
        Assert.Equal(0, status.Redispatches); // none waited for its lease
        Assert.Equal(0, status.HandedBack);
        TestData.AssertSame(TestData.Direct(Spec), TestData.Flatten(await Submitter.Fetch(cluster.GrainFactory, status)), 1e-10, "after lost starts vs direct run");
    }

    private static readonly TimeSpan LongLease = TimeSpan.FromMinutes(10);

    private static async Task<TestCluster> Deploy<TConfigurator>(int silos) where TConfigurator : ISiloConfigurator, new()
    {
        _ = TestRedis.ConnectionString;
        var builder = new TestClusterBuilder((short)silos);
        builder.AddSiloBuilderConfigurator<TConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>Waits until a worker of the running <paramref name="job"/> is active on one of <paramref name="silos"/>, and returns that silo.</summary>
    private static async Task<SiloAddress> WaitForWorkerOn(TestCluster cluster, IFisherJobGrain job, IEnumerable<SiloAddress> silos)
    {
        var wanted = silos.ToHashSet();
        var management = cluster.GrainFactory.GetGrain<IManagementGrain>(0);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            Assert.True(clock.Elapsed < TestTimeouts.Settle, TestTimeouts.Exceeded(TestTimeouts.Settle, "a worker of the job to run on " + string.Join(", ", wanted)));
            var status = await job.GetStatusAsync();
            Assert.False(status.IsFinished, $"the job ended ({status.State}{(status.Error is null ? "" : ": " + status.Error)}) before a worker ran on {string.Join(", ", wanted)}");
            var stats = await management.GetSimpleGrainStatistics();
            var silo = stats.Where(s => s.GrainType.Contains(nameof(ShardWorkerGrain), StringComparison.Ordinal) && s.ActivationCount > 0)
                .Select(s => s.SiloAddress).FirstOrDefault(wanted.Contains);
            if (silo is not null && status.TasksRunning > 0)
                return silo;
            await Task.Delay(50);
        }
    }

    /// <summary>The test silos with a lease longer than any job; the membership counted at the default period.</summary>
    private class ScalingConfigurator : ISiloConfigurator
    {
        protected virtual TimeSpan SiloCountPeriod => new FisherOptions().SiloCountPeriod;

        public void Configure(ISiloBuilder siloBuilder)
        {
            new FisherSiloConfigurator().Configure(siloBuilder);
            siloBuilder.Services.Configure<FisherOptions>(o =>
            {
                o.LeaseDuration = LongLease;
                o.SiloCountPeriod = SiloCountPeriod;
            });
        }
    }

    /// <summary>
    /// As <see cref="ScalingConfigurator"/>, with a start timeout of 2 s, and the first start of every task of a job whose
    /// id starts with <see cref="Prefix"/> dropped before its worker sees it.
    /// </summary>
    private sealed class LostStartConfigurator : ScalingConfigurator, ISiloConfigurator
    {
        public const string Prefix = "lost-start-";
        private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Job, string Task), bool> DroppedStarts = new();

        public static int Dropped(string jobId) => DroppedStarts.Keys.Count(k => k.Job == jobId);

        void ISiloConfigurator.Configure(ISiloBuilder siloBuilder)
        {
            Configure(siloBuilder);
            siloBuilder.Services.Configure<FisherOptions>(o => o.StartTimeout = TimeSpan.FromSeconds(2));
            siloBuilder.AddIncomingGrainCallFilter(async context =>
            {
                if (context.Request.GetArgumentCount() > 0 && context.Request.GetArgument(0) is TaskAssignment { Attempt: 1 } a
                    && a.JobId.StartsWith(Prefix, StringComparison.Ordinal) && DroppedStarts.TryAdd((a.JobId, a.TaskId), true))
                    return; // lost on the way: the worker never sees it
                await context.Invoke();
            });
        }
    }

    /// <summary>As <see cref="ScalingConfigurator"/>, the membership counted every half second.</summary>
    private sealed class FastCountConfigurator : ScalingConfigurator
    {
        protected override TimeSpan SiloCountPeriod => TimeSpan.FromMilliseconds(500);
    }
}
