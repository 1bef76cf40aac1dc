namespace Fisher.Contracts;

// The [Alias] of each method keeps the wire name it had before the methods gained their Async suffix and
// CancellationToken: silos and clients of either version still understand each other (Orleans ignores a token the
// callee does not take, and hands CancellationToken.None to a callee whose caller sent none).

/// <summary>Merges the partials of one job and parameter group (key: <c>jobId/groupIndex</c>), once per task id.</summary>
[Alias("fisher.IMomentsAggregatorGrain")]
public interface IMomentsAggregatorGrain : IGrainWithStringKey
{
    /// <summary>Adds one chunk of a task's partial; the task's last chunk merges it (once per task id).</summary>
    [Alias("AddChunk")]
    Task<MergeOutcome> AddChunkAsync(PartialChunk chunk, CancellationToken cancellationToken = default);

    /// <summary>What the group's merged state holds: tasks merged, inputs, streams and their lengths.</summary>
    [Alias("GetInfo")]
    Task<AggregateInfo> GetInfoAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Whether the merge of this task id is persisted (a merge still being written does not count). Interleaves with
    /// a chunk being merged, so a coordinator may ask while this aggregator asks it for a lease.
    /// </summary>
    [Alias("HasMerged"), Orleans.Concurrency.AlwaysInterleave]
    Task<bool> HasMergedAsync(string taskId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Precision of the group's estimate of one quantity (an estimate's key in Fisher.Results' catalog); with several draws per input it
    /// uses the per-input means (<c>i1_input_mean</c>) when they were streamed. Null when the quantity is absent.
    /// </summary>
    [Alias("GetPrecision")]
    Task<PrecisionInfo?> GetPrecisionAsync(string quantity, CancellationToken cancellationToken = default);

    /// <summary>Elements [offset, offset+length) of one merged stream.</summary>
    [Alias("Read")]
    Task<MomentSlice> ReadAsync(string key, int offset, int length, CancellationToken cancellationToken = default);
}
