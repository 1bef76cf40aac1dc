using Fisher.Contracts;
using Fisher.Estimators;
using Fisher.Grains.Telemetry;

namespace Fisher.Grains;

/// <summary>Sends a task's moments to its aggregator in chunks, starting over when the aggregator lost some.</summary>
internal static class PartialShipper
{
    /// <summary>Splits moments into chunks of at most <paramref name="chunkElements"/> doubles (mean and M2 counted together).</summary>
    public static IReadOnlyList<PartialChunk> Chunks(TaskAssignment task, FisherMoments moments, int chunkElements)
    {
        ArgumentNullException.ThrowIfNull(moments);
        int perArray = Math.Max(1, chunkElements / 2);
        var groups = new List<List<MomentSlice>>();
        var current = new List<MomentSlice>();
        int used = 0;
        foreach (var (key, stream) in moments.Streams.OrderBy(s => s.Key.ToString(), StringComparer.Ordinal))
        {
            for (int offset = 0; offset < stream.Length;)
            {
                if (used == perArray)
                {
                    groups.Add(current);
                    current = [];
                    used = 0;
                }
                int length = Math.Min(stream.Length - offset, perArray - used);
                current.Add(new MomentSlice(key.ToString(), stream.Count, offset, stream.Length,
                    stream.Mean.AsSpan(offset, length).ToArray(), stream.M2.AsSpan(offset, length).ToArray()));
                offset += length;
                used += length;
            }
        }
        if (current.Count > 0 || groups.Count == 0)
            groups.Add(current);
        return groups.Select((slices, i) => new PartialChunk(task.TaskId, task.Attempt, i, groups.Count, moments.Inputs, slices, task.LeaseKey)).ToArray();
    }

    /// <summary>
    /// Ships every chunk; true when the last returned Merged or Duplicate, false when the aggregator rejected the partial
    /// (the job no longer holds this attempt's lease: it ended, or the task was merged or skipped). Retries from chunk 0
    /// when the aggregator restarted. A long shipment keeps its lease: <paramref name="keepAlive"/> (a heartbeat) is called
    /// whenever <paramref name="keepAliveEvery"/> has passed since the last; when it answers false the shipment stops.
    /// </summary>
    public static async Task<bool> Ship(IGrainFactory grains, TaskAssignment task, FisherMoments moments, int chunkElements, CancellationToken cancellation,
        Func<Task<bool>>? keepAlive = null, TimeSpan keepAliveEvery = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(task);
        var since = System.Diagnostics.Stopwatch.StartNew();
        var aggregator = grains.GetGrain<IMomentsAggregatorGrain>(AggregatorKey(task.JobId, task.GroupIndex));
        var chunks = Chunks(task, moments, chunkElements);
        for (int round = 0; round < 5; round++)
        {
            MergeOutcome outcome = MergeOutcome.Pending;
            if (round > 0)
                WorkerMetrics.Retry("resend");
            foreach (var chunk in chunks)
            {
                cancellation.ThrowIfCancellationRequested();
                if (keepAlive is not null && since.Elapsed >= keepAliveEvery)
                {
                    if (!await keepAlive())
                        return false;
                    since.Restart();
                }
                outcome = await aggregator.AddChunkAsync(chunk, cancellation);
                WorkerMetrics.ChunkSent(task.GroupName, chunk);
                if (outcome is MergeOutcome.Duplicate or MergeOutcome.Incomplete or MergeOutcome.Rejected)
                    break;
            }
            if (outcome is MergeOutcome.Merged or MergeOutcome.Duplicate)
                return true;
            if (outcome is MergeOutcome.Rejected)
                return false;
        }
        throw new TimeoutException($"task {task.TaskId}: the aggregator of group {task.GroupName} kept losing chunks");
    }

    /// <summary>The aggregator key of a job and group.</summary>
    public static string AggregatorKey(string jobId, int groupIndex) => $"{jobId}/{groupIndex}";
}
