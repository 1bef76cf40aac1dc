using Fisher.Contracts;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Fisher.Client;

/// <summary>
/// Asks the cluster about one job through the loss of silos. A job's coordinator grain persists its state and
/// reactivates on another silo at the next call once the membership has declared its silo dead (some 10-40 s), so a
/// timeout or an unavailable silo is retried (each call bounded by <see cref="CallTimeout"/>) for up to the patience
/// (<c>--patience</c>, default <see cref="DefaultPatience"/>) before the command gives up with
/// <see cref="ExitCodes.NoAnswer"/>. Progress is the merged work, held monotone here too (a coordinator that
/// reactivates from an older write must not make it go back). A job the cluster answers for with no record, after it
/// was seen, was lost with its state store: that ends the command with <see cref="ExitCodes.JobUnknown"/>.
/// </summary>
internal sealed class JobFollower
{
    /// <summary>How long a command waits for the cluster to answer about a job before it gives up.</summary>
    public static readonly TimeSpan DefaultPatience = TimeSpan.FromMinutes(2);

    /// <summary>One status call; a longer one is abandoned and retried (its silo may be gone).</summary>
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    private readonly string _jobId;
    private readonly Func<CancellationToken, Task<JobStatus>> _getStatus;
    private readonly TimeSpan _patience;
    private long _workDone;
    private bool _seen;

    /// <param name="jobId">The job, for messages.</param>
    /// <param name="getStatus">One status call of the job's grain.</param>
    /// <param name="patience">How long to keep retrying a call the cluster does not answer.</param>
    public JobFollower(string jobId, Func<CancellationToken, Task<JobStatus>> getStatus, TimeSpan patience)
    {
        _jobId = jobId;
        _getStatus = getStatus;
        _patience = patience;
    }

    /// <summary>The job's status now (progress never below what this follower returned before).</summary>
    public async Task<JobStatus> NextAsync(CancellationToken cancellation)
    {
        var status = await Patiently(_jobId, _getStatus, _patience, cancellation);
        if (status.State == JobState.Unknown)
        {
            throw new CommandFailedException(ExitCodes.JobUnknown, _seen
                ? $"job {_jobId}: the cluster has no record of it any more; its state store was reset (the job is lost: submit it again)"
                : $"job {_jobId}: the cluster has no record of it (never submitted here, expired, or its state store was reset)");
        }
        _seen = true;
        _workDone = Math.Max(_workDone, status.WorkDone);
        return status with { WorkDone = _workDone };
    }

    /// <summary>
    /// Runs <paramref name="call"/> (a call about <paramref name="jobId"/>), retrying timeouts and unavailable silos for
    /// up to <paramref name="patience"/>; then fails with <see cref="ExitCodes.NoAnswer"/>.
    /// </summary>
    public static async Task<T> Patiently<T>(string jobId, Func<CancellationToken, Task<T>> call, TimeSpan patience, CancellationToken cancellation)
    {
        Exception? last = null;
        var pipeline = new ResiliencePipelineBuilder<T>()
            .AddTimeout(patience)
            .AddRetry(new RetryStrategyOptions<T>
            {
                ShouldHandle = new PredicateBuilder<T>().Handle<TimeoutException>().Handle<OrleansException>().Handle<TimeoutRejectedException>()
                    .Handle<OperationCanceledException>(_ => !cancellation.IsCancellationRequested),
                MaxRetryAttempts = int.MaxValue,
                Delay = TimeSpan.FromMilliseconds(500),
                MaxDelay = TimeSpan.FromSeconds(4),
                BackoffType = DelayBackoffType.Exponential,
                OnRetry = args =>
                {
                    last = args.Outcome.Exception;
                    return default;
                },
            })
            .AddTimeout(CallTimeout)
            .Build();
        try
        {
            return await pipeline.ExecuteAsync(async ct => await call(ct), cancellation);
        }
        catch (TimeoutRejectedException e) when (!cancellation.IsCancellationRequested)
        {
            throw new CommandFailedException(ExitCodes.NoAnswer,
                $"job {jobId}: the cluster did not answer for {patience.TotalSeconds:0} s (--patience; last: {ExceptionText.FirstLine(last ?? e)}); the job may still run: fisher status {jobId}", e);
        }
    }
}
