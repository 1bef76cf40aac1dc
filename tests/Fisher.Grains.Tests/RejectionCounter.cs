using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Fisher.Grains.Tests;

/// <summary>
/// Counts what the silos of this process refused while it is alive: <c>fisher.job.messages.rejected</c> by kind and
/// <c>fisher.aggregator.partials</c> by outcome (cluster tests run one at a time, so the counts are the test's).
/// </summary>
internal sealed class RejectionCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _counts = new();

    public RejectionCounter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name is "fisher.job.messages.rejected" or "fisher.aggregator.partials")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key is "kind" or "outcome")
                    _counts.AddOrUpdate($"{instrument.Name}{{{tag.Key}={tag.Value}}}", value, (_, v) => v + value);
            }
        });
        _listener.Start();
    }

    /// <summary>Messages of <paramref name="kind"/> the coordinators refused.</summary>
    public long Job(string kind) => _counts.GetValueOrDefault($"fisher.job.messages.rejected{{kind={kind}}}");

    /// <summary>Chunks the aggregators answered with <paramref name="outcome"/> (rejected, duplicate, incomplete, ...).</summary>
    public long Aggregator(string outcome) => _counts.GetValueOrDefault($"fisher.aggregator.partials{{outcome={outcome}}}");

    public void Dispose() => _listener.Dispose();
}
