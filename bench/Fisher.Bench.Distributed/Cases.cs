using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Fisher.Results;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;
using Fisher.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;
using static TorchSharp.torch;

namespace Fisher.Bench.Distributed;

/// <summary>What one timed run produced: wall seconds, inputs merged per group, parameter groups, extra notes.</summary>
internal sealed record RunResult(double Seconds, long Inputs, int Groups, string Note = "");

/// <summary>
/// The cases, each run in its own process by <see cref="Program"/>: first untimed on the warm-up inputs (JIT, torch
/// kernels, Orleans activations), then, after a 1 s pause for the runtime's background JIT to finish, timed on the
/// requested inputs.
/// </summary>
internal static class Cases
{
    public const string Direct1 = "direct-1";
    public const string Direct2 = "direct-2";
    public const string Workers = "workers-no-orleans";
    public const string WorkersPool = "workers-threadpool-slices";
    public const string GrainsAll = "grains-all";
    public const string GrainsLayer = "grains-layer";
    public const string GrainsAllAgain = "grains-all-again";
    public const string Breakdown = "breakdown";

    /// <summary>Runs case <paramref name="name"/> untimed on <paramref name="warmInputs"/>, then timed on <paramref name="inputs"/>.</summary>
    public static async Task<RunResult> Run(string name, Options options, long warmInputs, long inputs)
    {
        switch (name)
        {
            case Direct1:
            case Direct2:
                int threads = name == Direct1 ? 1 : 2;
                DirectLoop(options, warmInputs, threads);
                Settle();
                return Time(() => DirectLoop(options, inputs, threads));
            case Workers:
                WorkersWithoutOrleans(options, warmInputs, "all");
                Settle();
                return Time(() => WorkersWithoutOrleans(options, inputs, "all"));
            case WorkersPool:
                await WorkersOnThreadPool(options, warmInputs, "all");
                Settle();
                var clock = Stopwatch.StartNew();
                var (merged, groupCount) = await WorkersOnThreadPool(options, inputs, "all");
                return new RunResult(clock.Elapsed.TotalSeconds, merged, groupCount);
            case GrainsAll:
            case GrainsLayer:
            case GrainsAllAgain:
                await using (var silo = await EmbeddedSilo.Start())
                {
                    string grouping = name == GrainsLayer ? "layer" : "all";
                    await silo.RunJob(options, warmInputs, grouping);
                    Settle();
                    return await silo.RunJob(options, inputs, grouping);
                }
            default:
                throw new ArgumentException($"unknown case '{name}'");
        }
    }

    /// <summary>A pause after the warm-up: the tiered JIT recompiles hot methods on a background thread.</summary>
    private static void Settle()
    {
        GC.Collect();
        Thread.Sleep(1000);
    }

    private static RunResult Time(Func<(long Inputs, int Groups)> run)
    {
        var clock = Stopwatch.StartNew();
        var (inputs, groups) = run();
        return new RunResult(clock.Elapsed.TotalSeconds, inputs, groups);
    }

    /// <summary>
    /// The direct library loop (Fisher.Grains.DirectLoop, as the grains tests' reference, with the job's batch size): per thread one model replica, one
    /// dataset reader and one FisherAccumulator over a contiguous half; the halves' moments merged at the end.
    /// Model loading and data reading are timed, as they are in the job.
    /// </summary>
    private static (long, int) DirectLoop(Options options, long inputs, int threads)
    {
        var spec = Workload.Spec(options, inputs, "all");
        var results = new FisherMoments[threads];
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            long first = inputs * t / threads, next = inputs * (t + 1) / threads;
            results[t] = DirectRange(spec, first, next - first);
        })).ToArray();
        foreach (var w in workers)
            w.Start();
        foreach (var w in workers)
            w.Join();
        var total = results[0];
        for (int t = 1; t < threads; t++)
            total.Merge(results[t]);
        return (total.Inputs, 1);
    }

    public static FisherMoments DirectRange(JobSpec spec, long firstRow, long rows) =>
        Fisher.Grains.DirectLoop.Run(spec, firstRow, rows, spec.BatchSize);

    /// <summary>
    /// The grains' worker code (JobPlanner.Plan, one ShardComputation per task, Result) on 2 plain threads that take
    /// tasks from a queue, as the silo runs 2 tasks at once: the job minus Orleans (no timers, heartbeats, chunks, storage).
    /// </summary>
    private static (long, int) WorkersWithoutOrleans(Options options, long inputs, string grouping)
    {
        var spec = Workload.Spec(options, inputs, grouping);
        var plan = JobPlanner.Plan(spec, DataRoots.Everywhere, FisherOptions.DefaultMemoryBudget);
        var queue = new System.Collections.Concurrent.ConcurrentQueue<PlannedTask>(plan.Tasks);
        var merged = plan.Groups.Select(_ => new FisherMoments()).ToArray();
        var gate = new Lock();
        var workers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            while (queue.TryDequeue(out var t))
            {
                var assignment = new TaskAssignment("bench", t.TaskId, 1, spec, t.FirstRow, t.Rows, t.GroupIndex, t.GroupName, t.Parameters.ToArray(), LeaseKey: "bench");
                using var compute = new ShardComputation(assignment, 1, DataRoots.Everywhere);
                compute.Advance(TimeSpan.MaxValue);
                var moments = compute.Result();
                lock (gate)
                    merged[t.GroupIndex].Merge(moments);
            }
        })).ToArray();
        foreach (var w in workers)
            w.Start();
        foreach (var w in workers)
            w.Join();
        return (merged.Min(m => m.Inputs), merged.Length);
    }

    /// <summary>
    /// As <see cref="WorkersWithoutOrleans"/>, but each task advances in slices of FisherOptions.WorkerSlice, each slice
    /// a Task.Run on the thread pool (as ShardWorkerGrain.Step does), 2 tasks at once: the grain's threading without Orleans.
    /// </summary>
    private static async Task<(long, int)> WorkersOnThreadPool(Options options, long inputs, string grouping)
    {
        var spec = Workload.Spec(options, inputs, grouping);
        var plan = JobPlanner.Plan(spec, DataRoots.Everywhere, FisherOptions.DefaultMemoryBudget);
        var queue = new System.Collections.Concurrent.ConcurrentQueue<PlannedTask>(plan.Tasks);
        var merged = plan.Groups.Select(_ => new FisherMoments()).ToArray();
        var gate = new Lock();
        var slice = new FisherOptions().WorkerSlice;
        async Task Worker()
        {
            while (queue.TryDequeue(out var t))
            {
                var assignment = new TaskAssignment("bench", t.TaskId, 1, spec, t.FirstRow, t.Rows, t.GroupIndex, t.GroupName, t.Parameters.ToArray(), LeaseKey: "bench");
                var compute = await Task.Run(() => new ShardComputation(assignment, 1, DataRoots.Everywhere));
                while (!await Task.Run(() => compute.Advance(slice)))
                {
                }
                var moments = await Task.Run(compute.Result);
                compute.Dispose();
                lock (gate)
                    merged[t.GroupIndex].Merge(moments);
            }
        }
        await Task.WhenAll(Worker(), Worker());
        return (merged.Min(m => m.Inputs), merged.Length);
    }

    /// <summary>One silo in this process, as ClusterConnection.StartEmbedded sets it up.</summary>
    private sealed class EmbeddedSilo : IAsyncDisposable
    {
        private readonly IHost _host;
        private int _jobs;

        private EmbeddedSilo(IHost host) => _host = host;

        /// <summary>As ClusterConnection.StartEmbedded.</summary>
        public static async Task<EmbeddedSilo> Start()
        {
            int siloPort = FreePort(), gatewayPort = FreePort();
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Logging.AddFilter("Orleans", LogLevel.Error);
            builder.Logging.AddFilter("Microsoft", LogLevel.Error);
            builder.UseOrleans(silo => silo
                .UseLocalhostClustering(siloPort, gatewayPort)
                .Configure<EndpointOptions>(o => o.AdvertisedIPAddress = IPAddress.Loopback)
                .UseFisherClusterIds()
                .AddFisherGrains(o =>
                {
                    o.PersistAggregates = false; // as the CLI's embedded silo
                    o.DataRoots = [.. DataRoots.Everywhere.Roots];
                })
                .AddFisherMemoryStorage());
            var host = builder.Build();
            await host.StartAsync();
            return new EmbeddedSilo(host);
        }

        /// <summary>Start, poll GetStatus until finished, fetch the merged moments: timed from Start to the end of Fetch.</summary>
        public async Task<RunResult> RunJob(Options options, long inputs, string grouping)
        {
            var grains = _host.Services.GetRequiredService<IClusterClient>();
            var spec = Workload.Spec(options, inputs, grouping);
            var job = grains.GetGrain<IFisherJobGrain>(string.Create(CultureInfo.InvariantCulture, $"bench-{++_jobs}"));
            var threadsBefore = ThreadSnapshot();
            using var jit = options.Trace ? new JitListener { Enabled = true } : null;
            int[] collectionsBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
            var pauseBefore = GC.GetTotalPauseDuration();
            var clock = Stopwatch.StartNew();
            var (status, token) = await job.SubmitAsync(spec);
            var trace = new List<string>();
            while (!status.IsFinished)
            {
                await Task.Delay(10);
                var previous = status;
                status = await job.GetStatusAsync(token!);
                if (options.Trace && (status.WorkDone != previous.WorkDone || status.TasksCompleted != previous.TasksCompleted || status.TasksRunning != previous.TasksRunning))
                    trace.Add(string.Create(CultureInfo.InvariantCulture, $"{clock.Elapsed.TotalSeconds,7:0.000} s: work {status.WorkDone}/{status.WorkTotal}, tasks running {status.TasksRunning}, completed {status.TasksCompleted}/{status.TasksTotal}"));
            }
            foreach (var line in trace)
                Console.Error.WriteLine($"  trace {spec.Inputs} {grouping}: {line}");
            if (jit is not null)
            {
                jit.Enabled = false;
                lock (jit.Counts)
                {
                    foreach (var (type, count) in jit.Counts.OrderByDescending(p => p.Value).Take(10))
                        Console.Error.WriteLine($"  trace {spec.Inputs} {grouping}: JIT compiled {count,6} methods of {type}");
                    Console.Error.WriteLine($"  trace {spec.Inputs} {grouping}: JIT compiled {jit.Counts.Values.Sum()} methods during the job");
                }
            }
            if (options.Trace)
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  trace {spec.Inputs} {grouping}: GCs during the job: gen0 {GC.CollectionCount(0) - collectionsBefore[0]}, gen1 {GC.CollectionCount(1) - collectionsBefore[1]}, gen2 {GC.CollectionCount(2) - collectionsBefore[2]}; paused {(GC.GetTotalPauseDuration() - pauseBefore).TotalSeconds:0.000} s"));
            if (options.Trace)
                foreach (var line in ThreadTimes(threadsBefore))
                    Console.Error.WriteLine($"  trace {spec.Inputs} {grouping}: {line}");
            if (status.State != JobState.Completed)
                throw new InvalidOperationException($"job {status.JobId} ended {status.State}: {status.Error}");
            double computed = clock.Elapsed.TotalSeconds;
            var groups = await JobResults.Fetch(grains, status, token!);
            double seconds = clock.Elapsed.TotalSeconds;
            var server = (status.FinishedAt!.Value - status.StartedAt).TotalSeconds;
            return new RunResult(seconds, groups.Min(g => g.Inputs), groups.Count, string.Create(CultureInfo.InvariantCulture,
                $"{status.TasksTotal} tasks; coordinator start→completed {server:0.00} s, client saw completion at {computed:0.00} s, fetch {seconds - computed:0.00} s; redispatches {status.Redispatches}; {StorageProbe(groups)}"));
        }

        /// <summary>
        /// Times one write of the largest aggregator state through the storage's serializer (what every
        /// MomentsAggregatorGrain.AddChunk that completes a partial pays in WriteStateAsync), and a read back.
        /// </summary>
        private string StorageProbe(IReadOnlyList<GroupMoments> groups)
        {
            var serializer = _host.Services.GetRequiredService<IOptionsMonitor<MemoryGrainStorageOptions>>().Get(FisherHosting.StorageName).GrainStorageSerializer;
            var largest = groups.MaxBy(g => g.Streams.Values.Sum(m => (long)m.Length))!;
            var state = new AggregateState
            {
                Inputs = largest.Inputs,
                MergedTasks = [.. largest.MergedTasks],
                Streams = largest.Streams.ToDictionary(p => p.Key, p => new StreamState { Count = p.Value.Count, Mean = p.Value.Mean, M2 = p.Value.M2 }),
            };
            var clock = Stopwatch.StartNew();
            var bytes = serializer.Serialize(state);
            double write = clock.Elapsed.TotalSeconds;
            clock.Restart();
            _ = serializer.Deserialize<AggregateState>(bytes);
            double read = clock.Elapsed.TotalSeconds;
            long doubles = state.Streams.Values.Sum(v => 2L * v.Mean.Length);
            return string.Create(CultureInfo.InvariantCulture,
                $"storage serializer {serializer.GetType().Name}: aggregator state of group '{largest.Group}' ({doubles * 8 / 1e6:0.0} MB of doubles) serializes to {bytes.ToMemory().Length / 1e6:0.0} MB in {write:0.000} s, deserializes in {read:0.000} s");
        }

        /// <summary>CPU seconds per thread of this process so far (Linux /proc; empty elsewhere), by thread id.</summary>
        private static Dictionary<string, (string Name, double Seconds)> ThreadSnapshot()
        {
            var threads = new Dictionary<string, (string Name, double Seconds)>();
            if (!Directory.Exists("/proc/self/task"))
                return threads;
            foreach (var dir in Directory.EnumerateDirectories("/proc/self/task"))
            {
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    int open = stat.IndexOf('('), close = stat.LastIndexOf(')');
                    var fields = stat[(close + 2)..].Split(' ');
                    double ticks = double.Parse(fields[11], CultureInfo.InvariantCulture) + double.Parse(fields[12], CultureInfo.InvariantCulture);
                    threads[Path.GetFileName(dir)] = (stat[(open + 1)..close], ticks / 100);
                }
                catch (IOException)
                {
                }
            }
            return threads;
        }

        /// <summary>CPU seconds of the process's busiest threads since <paramref name="before"/>, to find who competes with the compute threads.</summary>
        private static IEnumerable<string> ThreadTimes(Dictionary<string, (string Name, double Seconds)> before)
        {
            var threads = ThreadSnapshot().Select(p => (p.Value.Name, Seconds: p.Value.Seconds - (before.TryGetValue(p.Key, out var b) ? b.Seconds : 0))).ToList();
            foreach (var (name, seconds) in threads.OrderByDescending(t => t.Seconds).Take(10))
                yield return string.Create(CultureInfo.InvariantCulture, $"thread {name,-16} {seconds,6:0.00} s CPU during the job");
            yield return string.Create(CultureInfo.InvariantCulture, $"{threads.Count} threads, {threads.Sum(t => t.Seconds):0.00} s CPU in all during the job");
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        public async ValueTask DisposeAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _host.StopAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
            }
            _host.Dispose();
        }
    }
}
