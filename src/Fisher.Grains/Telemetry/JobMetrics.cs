using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Fisher.Contracts;

namespace Fisher.Grains.Telemetry;

/// <summary>
/// Meter <c>fisher.job</c> of the job coordinators: task dispatches, completions, re-dispatches after a lost lease and
/// failures; and, over the running jobs whose coordinator is on this silo, their number and progress (work units:
/// input rows x parameter groups, as <c>fisher.worker.samples</c> counts them). The fisher.job span lasts while a
/// coordinator activation drives a running job; fisher.dispatch spans (its children) carry the calls to the workers.
/// </summary>
internal static class JobMetrics
{
    public const string MeterName = "fisher.job";

    private static readonly Meter Meter = new(MeterName, FisherTelemetry.Version);

    private static readonly Counter<long> Dispatched = Meter.CreateCounter<long>("fisher.job.tasks.dispatched", "{task}",
        "Task attempts dispatched to shard workers (first attempts and re-dispatches), by parameter group.");

    private static readonly Counter<long> Completed = Meter.CreateCounter<long>("fisher.job.tasks.completed", "{task}",
        "Tasks completed (their partial merged), by parameter group.");

    private static readonly Counter<long> Redispatched = Meter.CreateCounter<long>("fisher.job.tasks.redispatched", "{task}",
        "Running tasks whose worker stopped reporting within the lease and were dispatched again.");

    private static readonly Counter<long> HandedBack = Meter.CreateCounter<long>("fisher.job.tasks.handed_back", "{task}",
        "Running tasks handed back by their worker (its silo stopping, or Orleans deactivating it), dispatched again at once (no lease wait).");

    private static readonly Counter<long> StartsLost = Meter.CreateCounter<long>("fisher.job.tasks.starts_lost", "{task}",
        "Task starts no worker confirmed within the start timeout, dispatched again then.");

    private static readonly Counter<long> Failed = Meter.CreateCounter<long>("fisher.job.tasks.failed", "{task}",
        "Tasks that failed their job (bad input, or repeated unexpected errors).");

    private static readonly Counter<long> Rejected = Meter.CreateCounter<long>("fisher.job.messages.rejected", "{message}",
        "Messages refused because the job did not issue them, nothing changed: kind=access (a client call without the job's token), read (an aggregator read without it), partial (a partial asked to be merged), completion, failure, heartbeat (a task attempt or lease key the coordinator did not issue), assignment (a worker sent another attempt's assignment).");

    private static readonly ConcurrentDictionary<object, RunningJob> Jobs = new(ReferenceEqualityComparer.Instance);

    static JobMetrics()
    {
        Meter.CreateObservableGauge("fisher.job.active", () => Jobs.Count, "{job}",
            "Running jobs whose coordinator is active on this silo.");
        Meter.CreateObservableGauge("fisher.job.work.done", () => Jobs.Values.Sum(j => Volatile.Read(ref j.Done)), "{sample}",
            "Work merged by the running jobs coordinated on this silo (input rows x groups of completed tasks).");
        Meter.CreateObservableGauge("fisher.job.work.total", () => Jobs.Values.Sum(j => Volatile.Read(ref j.Total)), "{sample}",
            "Work the running jobs coordinated on this silo need in all (input rows x groups).");
    }

    internal static void Initialize()
    {
        Redispatched.Add(0);
        HandedBack.Add(0);
        StartsLost.Add(0);
        Failed.Add(0);
    }

    /// <summary>A coordinator drives a running job: counts it as active and starts its fisher.job span (once per activation).</summary>
    public static void Running(object coordinator, string jobId)
    {
        if (Jobs.ContainsKey(coordinator))
            return;
        var activity = FisherTelemetry.Source.StartActivity("fisher.job", ActivityKind.Internal);
        activity?.SetTag("fisher.job.id", jobId);
        Jobs[coordinator] = new RunningJob(activity);
    }

    /// <summary>The job's progress after a dispatch round (cheap: a sum over the task table).</summary>
    public static void Progress(object coordinator, JobStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (Jobs.TryGetValue(coordinator, out var job))
        {
            Volatile.Write(ref job.Done, status.WorkDone);
            Volatile.Write(ref job.Total, status.WorkTotal);
        }
    }

    /// <summary>The job ended (or the coordinator deactivated): no longer active; its span ends with the job's state.</summary>
    public static void Stopped(object coordinator, JobState state)
    {
        if (!Jobs.TryRemove(coordinator, out var job) || job.Activity is not { } activity)
            return;
        activity.SetTag("fisher.job.state", state.ToString());
        if (state == JobState.Failed)
            activity.SetStatus(ActivityStatusCode.Error);
        activity.Dispose();
    }

    /// <summary>Counts a dispatch and starts its fisher.dispatch span, a child of the job's span, around the call to the worker.</summary>
    public static Activity? Dispatch(object coordinator, TaskAssignment task)
    {
        ArgumentNullException.ThrowIfNull(task);
        Dispatched.Add(1, FisherTelemetry.Group(task.GroupName));
        var parent = Jobs.TryGetValue(coordinator, out var job) && job.Activity is { } a ? a.Context : default;
        var activity = FisherTelemetry.Source.StartActivity("fisher.dispatch", ActivityKind.Producer, parent);
        activity?.SetTag("fisher.job.id", task.JobId);
        activity?.SetTag("fisher.task.id", task.TaskId);
        activity?.SetTag("fisher.task.attempt", task.Attempt);
        return activity;
    }

    public static void TaskCompleted(string group) => Completed.Add(1, FisherTelemetry.Group(group));

    public static void TaskRedispatched() => Redispatched.Add(1);

    public static void TaskHandedBack() => HandedBack.Add(1);

    public static void StartLost() => StartsLost.Add(1);

    public static void TaskFailed() => Failed.Add(1);

    /// <summary>A call without the job's token, or a partial, completion, failure or heartbeat for a (task, attempt, lease key) the coordinator did not issue, was refused.</summary>
    public static void ForgedMessage(string kind) => Rejected.Add(1, new KeyValuePair<string, object?>("kind", kind));

    private sealed class RunningJob(Activity? activity)
    {
        public Activity? Activity { get; } = activity;
        public long Done;
        public long Total;
    }
}
