using System.Diagnostics;
using System.Diagnostics.Metrics;
using Fisher.Contracts;
using Orleans.Runtime;

namespace Fisher.Grains.Telemetry;

/// <summary>
/// Meter <c>fisher.worker</c> of the shard workers. <c>fisher.worker.samples</c> counts input rows a worker merged into
/// its task's moments, per parameter group: each row once per task attempt, whatever the number of label draws, so a
/// job over N inputs and G groups adds exactly N x G when no task is re-dispatched (a re-dispatched attempt's rows
/// count again). Spans: fisher.task (one task attempt, from its start to its end) and fisher.ship (sending its partial).
/// </summary>
internal static class WorkerMetrics
{
    public const string MeterName = "fisher.worker";

    /// <summary>The request-context key that tells an aggregator the parameter group of a partial (its metric label).</summary>
    internal const string GroupContextKey = "fisher.group";

    private static readonly Meter Meter = new(MeterName, FisherTelemetry.Version);

    private static readonly Counter<long> Samples = Meter.CreateCounter<long>("fisher.worker.samples", "{sample}",
        "Input rows merged by shard workers, by parameter group (once per task attempt; a job of N inputs and G groups adds N x G).");

    private static readonly Counter<long> Batches = Meter.CreateCounter<long>("fisher.worker.batches", "{batch}",
        "Batches merged by shard workers, by parameter group.");

    private static readonly Histogram<double> BatchSeconds = Meter.CreateHistogram("fisher.worker.batch.duration", "s",
        "Compute time of one batch (read, forward, label draws, backward quantities, moment merge), by parameter group.",
        tags: null, advice: FisherTelemetry.SecondsAdvice);

    private static readonly UpDownCounter<long> ActiveTasks = Meter.CreateUpDownCounter<long>("fisher.worker.tasks.active", "{task}",
        "Task attempts running on this silo's shard workers.");

    private static readonly Counter<long> Retries = Meter.CreateCounter<long>("fisher.worker.retries", "{retry}",
        "Worker retries: outcome=transient (a timeout or Orleans error, the next step retries), error (an unexpected error, up to 3), resend (the aggregator lost chunks, the partial is sent again).");

    private static readonly Counter<long> BytesSent = Meter.CreateCounter<long>("fisher.worker.partial.bytes", "By",
        "Bytes of partial moments (float64 mean and M2) sent to aggregators, by parameter group.");

    internal static void Initialize()
    {
        foreach (var outcome in new[] { "transient", "error", "resend" })
            Retries.Add(0, FisherTelemetry.Outcome(outcome));
        ActiveTasks.Add(0);
    }

    /// <summary>One batch of <paramref name="rows"/> rows merged in <paramref name="elapsed"/>.</summary>
    public static void BatchMerged(string group, int rows, TimeSpan elapsed)
    {
        var tag = FisherTelemetry.Group(group);
        Samples.Add(rows, tag);
        Batches.Add(1, tag);
        BatchSeconds.Record(elapsed.TotalSeconds, tag);
    }

    /// <summary>A task attempt starts on this silo: counts it as active and starts its fisher.task span; dispose once at its end.</summary>
    public static TaskTelemetry TaskStarted(TaskAssignment task)
    {
        ArgumentNullException.ThrowIfNull(task);
        ActiveTasks.Add(1);
        var activity = FisherTelemetry.Source.StartActivity("fisher.task", ActivityKind.Consumer);
        activity?.SetTag("fisher.job.id", task.JobId);
        activity?.SetTag("fisher.task.id", task.TaskId);
        activity?.SetTag("fisher.task.attempt", task.Attempt);
        activity?.SetTag("fisher.group", task.GroupName);
        activity?.SetTag("fisher.rows", task.Rows);
        return new TaskTelemetry(activity);
    }

    /// <summary>
    /// Starts the fisher.ship span (child of the task's span, so the aggregator's fisher.merge is in the job's trace) and
    /// tells the aggregator the group name through the request context.
    /// </summary>
    public static Activity? Shipping(TaskTelemetry? task, TaskAssignment assignment)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        RequestContext.Set(GroupContextKey, assignment.GroupName);
        var activity = FisherTelemetry.Source.StartActivity("fisher.ship", ActivityKind.Producer, task?.Activity?.Context ?? default);
        activity?.SetTag("fisher.task.id", assignment.TaskId);
        return activity;
    }

    /// <summary>One chunk of a partial sent.</summary>
    public static void ChunkSent(string group, PartialChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        BytesSent.Add(AggregatorMetrics.PayloadBytes(chunk), FisherTelemetry.Group(group));
    }

    public static void Retry(string outcome) => Retries.Add(1, FisherTelemetry.Outcome(outcome));

    /// <summary>A running task attempt: ends its span and leaves the active count once, whichever of stop or deactivation comes first.</summary>
    public sealed class TaskTelemetry(Activity? activity) : IDisposable
    {
        private int _disposed;

        internal Activity? Activity { get; } = activity;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
                return;
            ActiveTasks.Add(-1);
            Activity?.Dispose();
        }
    }
}
