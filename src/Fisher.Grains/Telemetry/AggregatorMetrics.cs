using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Fisher.Contracts;
using Fisher.Results;
using Orleans.Runtime;

namespace Fisher.Grains.Telemetry;

/// <summary>
/// Meter <c>fisher.aggregator</c> of the moment aggregators: partials by outcome (merged, duplicate: a task id merged
/// before, ignored; incomplete: chunks out of order, the sender starts over), merge latency (merge and persist), bytes
/// of partials received, and after each merge the relative standard error ‖s.e.‖₂/‖Î‖₂ of each estimate of the merged
/// group (the latest merge's value per group and estimator; labels group x estimator stay bounded by the model).
/// The fisher.merge span covers one merge and its write.
/// </summary>
internal static class AggregatorMetrics
{
    public const string MeterName = "fisher.aggregator";

    private static readonly Meter Meter = new(MeterName, FisherTelemetry.Version);

    private static readonly Counter<long> Partials = Meter.CreateCounter<long>("fisher.aggregator.partials", "{partial}",
        "Partials received by aggregators: outcome=merged, duplicate (task id merged before; ignored), incomplete (chunks out of order; the sender starts over), failed (the write failed), rejected (not issued by the job's coordinator, or not fitting its lease; never merged).");

    private static readonly Histogram<double> MergeSeconds = Meter.CreateHistogram("fisher.aggregator.merge.duration", "s",
        "Time to merge one task's partial (Chan's update) and persist the merged state.", tags: null, advice: FisherTelemetry.SecondsAdvice);

    private static readonly Counter<long> BytesReceived = Meter.CreateCounter<long>("fisher.aggregator.partial.bytes", "By",
        "Bytes of partial moments (float64 mean and M2) received by aggregators.");

    private static readonly ConcurrentDictionary<(string Group, string Estimator), double> LatestError = new();

    static AggregatorMetrics()
    {
        Meter.CreateObservableGauge("fisher.aggregator.relative_standard_error", Observe, null,
            "Relative standard error ||s.e.||/||estimate|| of each estimate of a parameter group after the latest merge on this silo.");
    }

    internal static void Initialize()
    {
        foreach (var outcome in new[] { "merged", "duplicate", "incomplete", "failed", "rejected" })
            Partials.Add(0, FisherTelemetry.Outcome(outcome));
    }

    private static IEnumerable<Measurement<double>> Observe() =>
        LatestError.Select(p => new Measurement<double>(p.Value, FisherTelemetry.Group(p.Key.Group), new KeyValuePair<string, object?>("estimator", p.Key.Estimator)));

    internal static long PayloadBytes(PartialChunk chunk) => chunk.Slices.Sum(s => 16L * s.Mean.Length);

    /// <summary>A chunk arrived.</summary>
    public static void Received(PartialChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        BytesReceived.Add(PayloadBytes(chunk));
    }

    /// <summary>A partial that was not merged: duplicate or incomplete.</summary>
    public static void Rejected(string outcome) => Partials.Add(1, FisherTelemetry.Outcome(outcome));

    /// <summary>Starts timing a merge and its fisher.merge span; call <see cref="MergeTelemetry.Merged"/> after the write.</summary>
    public static MergeTelemetry StartMerge(string aggregatorKey, PartialChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(aggregatorKey);
        ArgumentNullException.ThrowIfNull(chunk);
        var group = RequestContext.Get(WorkerMetrics.GroupContextKey) as string ?? aggregatorKey[(aggregatorKey.LastIndexOf('/') + 1)..];
        var activity = FisherTelemetry.Source.StartActivity("fisher.merge", ActivityKind.Consumer);
        activity?.SetTag("fisher.aggregator", aggregatorKey);
        activity?.SetTag("fisher.task.id", chunk.TaskId);
        activity?.SetTag("fisher.group", group);
        return new MergeTelemetry(group, activity);
    }

    /// <summary>Relative standard error of each estimate in merged streams (keys "&lt;parameter&gt;.&lt;quantity&gt;"); per-input means when K ≥ 2.</summary>
    internal static IEnumerable<(string Estimator, double Value)> RelativeErrors(IReadOnlyDictionary<string, StreamState> streams)
    {
        foreach (var estimate in QuantityCatalog.Estimates)
        {
            double value;
            try
            {
                value = MomentsAggregatorGrain.PrecisionOf(estimate, streams)?.RelativeStandardError ?? double.NaN;
            }
            catch (ArgumentException)
            {
                continue; // streams of different counts: not a complete group
            }
            if (double.IsFinite(value))
                yield return (estimate.Key, value);
        }
    }

    /// <summary>One merge in progress: ends its span and records its latency once; without <see cref="Merged"/> it counts as failed.</summary>
    public sealed class MergeTelemetry(string group, Activity? activity) : IDisposable
    {
        private readonly long _started = Stopwatch.GetTimestamp();
        private bool _merged;
        private bool _disposed;

        /// <summary>The merged state was written: counts the merge and updates the group's relative standard errors.</summary>
        public void Merged(AggregateState state)
        {
            ArgumentNullException.ThrowIfNull(state);
            _merged = true;
            Partials.Add(1, FisherTelemetry.Outcome("merged"));
            foreach (var (estimator, value) in RelativeErrors(state.Streams))
            {
                LatestError[(group, estimator)] = value;
                activity?.SetTag($"fisher.rse.{estimator}", value);
            }
        }

        public void Dispose()
        {
            if (_disposed)
                return;
            _disposed = true;
            MergeSeconds.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds);
            if (!_merged)
            {
                Partials.Add(1, FisherTelemetry.Outcome("failed"));
                activity?.SetStatus(ActivityStatusCode.Error);
            }
            activity?.Dispose();
        }
    }
}
