using Fisher.Contracts;
using Fisher.Estimators;
using Fisher.Grains.Telemetry;
using Fisher.Results;

namespace Fisher.Grains;

/// <summary>
/// Merges partials of one job and parameter group with Chan's update, once per task id: the merged ids are
/// persisted with the merged state in one write, so retries, duplicate deliveries and a second attempt of a
/// re-dispatched task cannot double count, and a silo loss loses no merged work.
/// </summary>
internal sealed class MomentsAggregatorGrain(
    [PersistentState("aggregate", FisherHosting.StorageName)] IPersistentState<AggregateState> state,
    Microsoft.Extensions.Options.IOptions<FisherOptions> options,
    IPartialLeases leases) : Grain, IMomentsAggregatorGrain
{
    private readonly Dictionary<(string Task, int Attempt), Pending> _pending = [];

    /// <summary>Task ids whose merge is persisted (or, without persistence, applied): what <see cref="HasMergedAsync"/> reports.</summary>
    private readonly HashSet<string> _confirmed = new(StringComparer.Ordinal);
    private readonly bool _persist = options.Value.PersistAggregates;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _confirmed.UnionWith(state.State.MergedTasks);
        // Without persistence the merged state lives only in this activation: never collect it while the silo runs.
        if (!_persist)
            DelayDeactivation(TimeSpan.FromDays(3650));
        return base.OnActivateAsync(cancellationToken);
    }

    public async Task<MergeOutcome> AddChunkAsync(PartialChunk chunk, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        AggregatorMetrics.Received(chunk);
        if (state.State.MergedTasks.Contains(chunk.TaskId))
        {
            AggregatorMetrics.Rejected("duplicate"); // a retry, a superseded attempt, or a replay: merged at most once
            return MergeOutcome.Duplicate;
        }
        var id = (chunk.TaskId, chunk.Attempt);
        if (chunk.Index == 0)
        {
            // Only what the job's coordinator issued is taken: the lease names the rows and the streams allowed. A chunk
            // it did not issue leaves a partial in flight under the same (task, attempt) alone.
            var lease = await leases.AuthorizeAsync(JobId, chunk.TaskId, chunk.Attempt, chunk.LeaseKey);
            if (lease is null)
                return Forged();
            _pending[id] = new Pending(chunk.Count, lease, chunk.LeaseKey); // new, or the sender started over
        }
        if (!_pending.TryGetValue(id, out var pending))
            return Refuse(id, MergeOutcome.Incomplete);
        if (!pending.IsKey(chunk.LeaseKey))
            return Forged();
        if (chunk.Index != pending.Next || chunk.Count != pending.Count)
            return Refuse(id, MergeOutcome.Incomplete);
        if (!pending.TryAdd(chunk))
            return Refuse(id, MergeOutcome.Rejected);
        if (pending.Next < pending.Count)
            return MergeOutcome.Pending;
        if (chunk.Inputs != pending.Lease.Rows)
            return Refuse(id, MergeOutcome.Rejected); // a partial covers exactly its task's rows
        _pending.Remove(id);
        await MergeAsync(pending, chunk);
        return MergeOutcome.Merged;
    }

    /// <summary>Drops what was received of (task, attempt) and counts the outcome.</summary>
    private MergeOutcome Refuse((string Task, int Attempt) id, MergeOutcome outcome)
    {
        _pending.Remove(id);
        AggregatorMetrics.Rejected(outcome == MergeOutcome.Rejected ? "rejected" : "incomplete");
        return outcome;
    }

    /// <summary>Counts a chunk under a lease key the coordinator did not issue; nothing else changes.</summary>
    private static MergeOutcome Forged()
    {
        AggregatorMetrics.Rejected("rejected");
        return MergeOutcome.Rejected;
    }

    /// <summary>Merges a complete partial and persists the merged state with its task id in one write.</summary>
    private async Task MergeAsync(Pending pending, PartialChunk last)
    {
        using var telemetry = AggregatorMetrics.StartMerge(this.GetPrimaryKeyString(), last);
        var previous = state.State;
        state.State = Merge(previous, pending, last.TaskId, last.Inputs, copy: _persist);
        if (_persist)
        {
            try
            {
                // Not the caller's token: a merge, once applied in memory, is persisted.
                await state.WriteStateAsync(CancellationToken.None);
            }
            catch
            {
                // Not persisted, so not merged: put the untouched previous state back (a retry of this task must not
                // be taken for a duplicate) and reload what storage holds on the next activation. The sender retries.
                state.State = previous;
                DeactivateOnIdle();
                throw;
            }
        }
        _confirmed.Add(last.TaskId);
        telemetry.Merged(state.State);
    }

    public Task<bool> HasMergedAsync(string taskId, CancellationToken cancellationToken = default) => Task.FromResult(_confirmed.Contains(taskId));

    private static AggregateState Merge(AggregateState current, Pending partial, string taskId, long inputs, bool copy)
    {
        if (!copy)
        {
            // In place: nothing is written, so nothing can fail half-way.
            current.MergedTasks.Add(taskId);
            current.Inputs += inputs;
            foreach (var (key, stream) in partial.Streams)
            {
                if (current.Streams.TryGetValue(key, out var existing))
                {
                    var mine = new Moments(existing.Count, existing.Mean, existing.M2);
                    mine.Merge(new Moments(stream.Count, stream.Mean, stream.M2));
                    existing.Count = mine.Count;
                }
                else
                {
                    current.Streams[key] = stream;
                }
            }
            return current;
        }
        // Merge into copies so a failed write leaves nothing half-merged in memory.
        var next = new AggregateState
        {
            Streams = new Dictionary<string, StreamState>(current.Streams),
            MergedTasks = [.. current.MergedTasks, taskId],
            Inputs = current.Inputs + inputs,
        };
        foreach (var (key, stream) in partial.Streams)
        {
            var incoming = new Moments(stream.Count, stream.Mean, stream.M2);
            if (next.Streams.TryGetValue(key, out var existing))
            {
                var mine = new Moments(existing.Count, (double[])existing.Mean.Clone(), (double[])existing.M2.Clone());
                mine.Merge(incoming);
                next.Streams[key] = new StreamState { Count = mine.Count, Mean = mine.Mean, M2 = mine.M2 };
            }
            else
            {
                next.Streams[key] = stream;
            }
        }
        return next;
    }

    public async Task<AggregateInfo> GetInfoAsync(string token, CancellationToken cancellationToken = default)
    {
        await AuthorizeReadAsync(token);
        var s = state.State;
        return new AggregateInfo(
            this.GetPrimaryKeyString(), s.Inputs, s.MergedTasks.Order(StringComparer.Ordinal).ToArray(),
            s.Streams.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new StreamInfo(p.Key, p.Value.Count, p.Value.Mean.Length)).ToArray());
    }

    /// <summary>Throws <see cref="JobAccessDeniedException"/> unless the job's coordinator accepts <paramref name="token"/> (it counts a refusal).</summary>
    private async Task AuthorizeReadAsync(string token)
    {
        if (!await leases.AuthorizeReadAsync(JobId, token))
            throw new JobAccessDeniedException(JobId);
    }

    public async Task<PrecisionInfo?> GetPrecisionAsync(string token, string quantity, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(quantity);
        if (QuantityCatalog.Find(quantity) is not { IsEstimate: true } estimate)
            throw new ArgumentException($"'{quantity}' is not an estimate of the Fisher diagonal", nameof(quantity));
        await AuthorizeReadAsync(token);
        var precision = PrecisionOf(estimate, state.State.Streams);
        return precision is null ? null
            : new PrecisionInfo(this.GetPrimaryKeyString(), quantity, precision.Inputs, precision.SumOfSquaredEstimates, precision.SumOfPerInputVariances);
    }

    /// <summary>The precision of one estimate over merged streams keyed <c>&lt;parameter&gt;.&lt;stream key&gt;</c>.</summary>
    internal static Precision? PrecisionOf(QuantityInfo estimate, IReadOnlyDictionary<string, StreamState> streams) =>
        estimate.PrecisionOf(streams.Keys.Select(k => GroupMoments.SplitKey(k).Parameter).Distinct(),
            name => streams.TryGetValue(name, out var s) ? new Moments(s.Count, s.Mean, s.M2) : null);

    public async Task<MomentSlice> ReadAsync(string token, string key, int offset, int length, CancellationToken cancellationToken = default)
    {
        await AuthorizeReadAsync(token);
        if (!state.State.Streams.TryGetValue(key, out var stream))
            throw new ArgumentException($"no stream '{key}' in aggregator {this.GetPrimaryKeyString()}", nameof(key));
        if (offset < 0 || length < 0 || offset + length > stream.Mean.Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"elements {offset}..{offset + length} outside stream '{key}' of {stream.Mean.Length}");
        return new MomentSlice(key, stream.Count, offset, stream.Mean.Length,
            stream.Mean.AsSpan(offset, length).ToArray(), stream.M2.AsSpan(offset, length).ToArray());
    }

    /// <summary>The job of this aggregator (its key is <c>jobId/groupIndex</c>).</summary>
    private string JobId => this.GetPrimaryKeyString()[..this.GetPrimaryKeyString().LastIndexOf('/')];

    /// <summary>The chunks of one (task, attempt) received so far, checked against its lease before anything is allocated.</summary>
    private sealed class Pending(int count, PartialLease lease, string leaseKey)
    {
        private readonly byte[] _keyHash = Secrets.Hash(leaseKey);

        private readonly Dictionary<string, int> _sizes = lease.Parameters.Select((p, i) => (p, i))
            .ToDictionary(x => x.p, x => x.i < lease.Sizes.Count ? lease.Sizes[x.i] : -1, StringComparer.Ordinal);

        public int Count { get; } = count;
        public int Next { get; private set; }
        public PartialLease Lease { get; } = lease;
        public Dictionary<string, StreamState> Streams { get; } = [];

        /// <summary>Whether a later chunk carries the lease key the first one was authorized under.</summary>
        public bool IsKey(string? leaseKey) => Secrets.Matches(leaseKey, _keyHash);

        /// <summary>
        /// Stores the chunk's slices; false when one names a parameter or quantity the lease does not allow or a length
        /// other than its parameter's size (nothing of that chunk is allocated then).
        /// </summary>
        public bool TryAdd(PartialChunk chunk)
        {
            foreach (var slice in chunk.Slices)
            {
                var (parameter, quantity) = GroupMoments.SplitKey(slice.Key);
                if (!_sizes.TryGetValue(parameter, out int size) || !Lease.Quantities.Contains(quantity)
                    || (size >= 0 && slice.Length != size) || slice.Length < 0 || slice.Offset < 0
                    || slice.Mean.Length != slice.M2.Length || (long)slice.Offset + slice.Mean.Length > slice.Length)
                    return false;
            }
            foreach (var slice in chunk.Slices)
            {
                if (!Streams.TryGetValue(slice.Key, out var stream))
                    Streams[slice.Key] = stream = new StreamState { Count = slice.Count, Mean = new double[slice.Length], M2 = new double[slice.Length] };
                if (stream.Count != slice.Count || stream.Mean.Length != slice.Length)
                    return false;
                slice.Mean.CopyTo(stream.Mean, slice.Offset);
                slice.M2.CopyTo(stream.M2, slice.Offset);
            }
            Next++;
            return true;
        }
    }
}
