using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;
using Fisher.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using static TorchSharp.torch;

namespace Fisher.Bench.Distributed;

/// <summary>What one timed run produced: wall seconds, inputs merged per group, parameter groups, extra notes.</summary>
internal sealed record RunResult(double Seconds, long Inputs, int Groups, string Note = "");

/// <summary>
/// The cases, each run in its own process by <see cref="Program"/>: first on a few batches (warm-up: JIT, torch kernels,
/// Orleans activations), then timed on the requested inputs.
/// </summary>
internal static class Cases
{
    public const string Direct1 = "direct-1";
    public const string Direct2 = "direct-2";
    public const string Workers = "workers-no-orleans";
    public const string GrainsAll = "grains-all";
    public const string GrainsLayer = "grains-layer";
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
                return Time(() => DirectLoop(options, inputs, threads));
            case Workers:
                WorkersWithoutOrleans(options, warmInputs, "all");
                return Time(() => WorkersWithoutOrleans(options, inputs, "all"));
            case GrainsAll:
            case GrainsLayer:
                await using (var silo = await EmbeddedSilo.Start())
                {
                    string grouping = name == GrainsAll ? "all" : "layer";
                    await silo.RunJob(options, warmInputs, grouping);
                    return await silo.RunJob(options, inputs, grouping);
                }
            default:
                throw new ArgumentException($"unknown case '{name}'");
        }
    }

    private static RunResult Time(Func<(long Inputs, int Groups)> run)
    {
        var clock = Stopwatch.StartNew();
        var (inputs, groups) = run();
        return new RunResult(clock.Elapsed.TotalSeconds, inputs, groups);
    }

    /// <summary>
    /// The direct library loop (as TestData.Direct, with the job's batch size): per thread one model replica, one
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

    public static FisherMoments DirectRange(JobSpec spec, long firstRow, long rows)
    {
        var architecture = ModelArchitecture.Read(spec.ArchitecturePath);
        var (quantities, dtype) = JobPlanner.Resolve(spec);
        using var network = ModelLoader.Load(architecture, spec.ModelPath, dtype);
        using var data = Dataset.Open(spec.InputsPath, spec.LabelsPath);
        var estimator = new FisherEstimator(network, JobPlanner.CreateLikelihood(spec, architecture), new EstimatorOptions
        {
            Quantities = quantities,
            DrawsPerInput = spec.DrawsPerInput,
            Seed = spec.Seed,
        });
        using var accumulator = new FisherAccumulator();
        int batch = spec.BatchSize;
        var x = new double[batch * data.Features];
        var y = new double[batch];
        for (long first = firstRow; first < firstRow + rows; first += batch)
        {
            int count = (int)Math.Min(batch, firstRow + rows - first);
            using var scope = NewDisposeScope();
            data.ReadInputs(first, count, x.AsSpan(0, count * data.Features));
            data.ReadLabels(first, count, y.AsSpan(0, count));
            var input = tensor(x, [batch, data.Features]).narrow(0, 0, count) * architecture.Input.Scale + architecture.Input.Shift;
            var labels = tensor(y, [batch]).narrow(0, 0, count);
            estimator.Accumulate(accumulator, input.to(dtype), labels, first);
        }
        return accumulator.ToMoments();
    }

    /// <summary>
    /// The grains' worker code (JobPlanner.Plan, one ShardComputation per task, Result) on 2 plain threads that take
    /// tasks from a queue, as the silo runs 2 tasks at once: the job minus Orleans (no timers, heartbeats, chunks, storage).
    /// </summary>
    private static (long, int) WorkersWithoutOrleans(Options options, long inputs, string grouping)
    {
        var spec = Workload.Spec(options, inputs, grouping);
        var plan = JobPlanner.Plan(spec);
        var queue = new System.Collections.Concurrent.ConcurrentQueue<PlannedTask>(plan.Tasks);
        var merged = plan.Groups.Select(_ => new FisherMoments()).ToArray();
        var gate = new Lock();
        var workers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
        {
            while (queue.TryDequeue(out var t))
            {
                var assignment = new TaskAssignment("bench", t.TaskId, 1, spec, t.FirstRow, t.Rows, t.GroupIndex, t.GroupName, t.Parameters.ToArray());
                using var compute = new ShardComputation(assignment, 1);
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

    /// <summary>One silo in this process, as ClusterConnection.StartEmbedded sets it up.</summary>
    private sealed class EmbeddedSilo : IAsyncDisposable
    {
        private readonly IHost _host;
        private int _jobs;

        private EmbeddedSilo(IHost host) => _host = host;

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
                .AddFisherGrains()
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
            var clock = Stopwatch.StartNew();
            var status = await job.Start(spec);
            while (!status.IsFinished)
            {
                await Task.Delay(10);
                status = await job.GetStatus();
            }
            if (status.State != JobState.Completed)
                throw new InvalidOperationException($"job {status.JobId} ended {status.State}: {status.Error}");
            double computed = clock.Elapsed.TotalSeconds;
            var groups = await JobResults.Fetch(grains, status);
            double seconds = clock.Elapsed.TotalSeconds;
            var server = (status.FinishedAt!.Value - status.StartedAt).TotalSeconds;
            return new RunResult(seconds, groups.Min(g => g.Inputs), groups.Count, string.Create(CultureInfo.InvariantCulture,
                $"{status.TasksTotal} tasks; coordinator start→completed {server:0.00} s, client saw completion at {computed:0.00} s, fetch {seconds - computed:0.00} s; redispatches {status.Redispatches}"));
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
