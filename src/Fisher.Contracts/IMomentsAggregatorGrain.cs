namespace Fisher.Contracts;

// Wire names: a method whose parameters changed gets a new [Alias], never an old one back. Retired: GetInfo, Read,
// GetPrecision (no token); GrainWireTests keeps them retired.

/// <summary>
/// Merges the partials of one job and parameter group (key: <c>jobId/groupIndex</c>), once per task id. Partials carry
/// their lease key (<see cref="PartialChunk.LeaseKey"/>); reads carry the job's access token, which the aggregator has
/// its job's coordinator check (a wrong one throws <see cref="JobAccessDeniedException"/>).
/// </summary>
[Alias("fisher.IMomentsAggregatorGrain")]
public interface IMomentsAggregatorGrain : IGrainWithStringKey
{
    /// <summary>Adds one chunk of a task's partial; the task's last chunk merges it (once per task id).</summary>
    [Alias("AddChunk")]
    Task<MergeOutcome> AddChunkAsync(PartialChunk chunk, CancellationToken cancellationToken = default);

    /// <summary>What the group's merged state holds: tasks merged, inputs, streams and their lengths.</summary>
    [Alias("GetInfoWithToken")]
    Task<AggregateInfo> GetInfoAsync(string token, CancellationToken cancellationToken = default);

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
    [Alias("GetPrecisionWithToken")]
    Task<PrecisionInfo?> GetPrecisionAsync(string token, string quantity, CancellationToken cancellationToken = default);

    /// <summary>Elements [offset, offset+length) of one merged stream.</summary>
    [Alias("ReadWithToken")]
    Task<MomentSlice> ReadAsync(string token, string key, int offset, int length, CancellationToken cancellationToken = default);
}
