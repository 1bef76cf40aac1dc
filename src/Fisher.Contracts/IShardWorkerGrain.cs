using Orleans.Concurrency;

namespace Fisher.Contracts;

// The [Alias] of each method keeps the wire name it had before the methods gained their Async suffix and
// CancellationToken: silos and clients of either version still understand each other (Orleans ignores a token the
// callee does not take, and hands CancellationToken.None to a callee whose caller sent none).

/// <summary>
/// Processes one task (key: <c>jobId/taskId/attempt</c>): loads its model replica and opens its rows once, then
/// advances batch by batch on a timer, off the grain turn, and ships its partial to the aggregator in chunks.
/// </summary>
[Alias("fisher.IShardWorkerGrain")]
public interface IShardWorkerGrain : IGrainWithStringKey
{
    /// <summary>
    /// Starts the task and returns at once (one-way: the coordinator never waits on a worker). Orleans accepts a token
    /// here, but on a one-way call it can only stop a call not yet sent: there is no reply to wait for, so nothing for
    /// a later cancellation to act on. The worker stops when its heartbeat is refused, not through this token.
    /// </summary>
    [OneWay, Alias("Start")]
    Task StartAsync(TaskAssignment assignment, CancellationToken cancellationToken = default);
}
