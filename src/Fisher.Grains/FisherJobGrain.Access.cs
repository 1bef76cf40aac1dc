using Fisher.Contracts;
using Fisher.Grains.Telemetry;
using Microsoft.Extensions.Logging;

namespace Fisher.Grains;

// Who may do what with a job: its submitter (the access token) reads and cancels it; a worker (the lease key of its
// task attempt) reports, completes and fails it. See docs/security.md, "Job ownership".
internal sealed partial class FisherJobGrain
{
    /// <summary>
    /// The key this activation reads its own aggregators with (target checks): random per activation and never
    /// stored, so it needs no protection at rest and dies with the activation.
    /// </summary>
    private readonly string _readKey = Secrets.New(Secrets.TokenBytes);

    private byte[]? _readKeyHash;

    public Task<JobStatus> GetStatusAsync(string token, CancellationToken cancellationToken = default)
    {
        if (state.State.Spec is not null)
            Authorize(token);
        return Task.FromResult(Status());
    }

    public async Task<JobStatus> CancelAsync(string token, CancellationToken cancellationToken = default)
    {
        if (state.State.Spec is null)
            return Status(); // never started: nothing to cancel, nothing to protect
        Authorize(token);
        if (state.State.State == JobState.Running)
        {
            state.State.State = JobState.Cancelled;
            state.State.FinishedAt = DateTimeOffset.UtcNow;
            await Persist();
            StopTimer();
        }
        return Status();
    }

    public Task<bool> AuthorizeReadAsync(string token, CancellationToken cancellationToken = default)
    {
        _readKeyHash ??= Secrets.Hash(_readKey);
        bool allowed = Secrets.Matches(token, state.State.TokenHash) | Secrets.Matches(token, _readKeyHash);
        if (!allowed)
            Refused("read");
        return Task.FromResult(allowed);
    }

    /// <summary>Throws <see cref="JobAccessDeniedException"/> unless <paramref name="token"/> is the job's access token.</summary>
    private void Authorize(string? token)
    {
        if (Secrets.Matches(token, state.State.TokenHash))
            return;
        Refused("access");
        throw new JobAccessDeniedException(JobId);
    }

    private void Refused(string kind)
    {
        JobMetrics.ForgedMessage(kind);
        Log.AccessDenied(logger, JobId, kind);
    }

    /// <summary>
    /// Whether the coordinator dispatched <paramref name="attempt"/> of <paramref name="task"/> under
    /// <paramref name="leaseKey"/> (any attempt up to the current one: a superseded attempt's partial is the same numbers,
    /// label draws being a function of the global index).
    /// </summary>
    private static bool Leased(TaskRecord task, int attempt, string? leaseKey) =>
        attempt >= 1 && attempt <= task.Attempt && attempt <= task.LeaseKeyHashes.Count
        && Secrets.Matches(leaseKey, task.LeaseKeyHashes[attempt - 1]);

    /// <summary>A new lease key for the task's current attempt; its hash is kept at the attempt's index.</summary>
    private static string IssueLeaseKey(TaskRecord task)
    {
        // States persisted before lease keys have attempts without one: they stay unmatched placeholders.
        if (task.LeaseKeyHashes.Count >= task.Attempt)
            task.LeaseKeyHashes.RemoveRange(task.Attempt - 1, task.LeaseKeyHashes.Count - task.Attempt + 1);
        while (task.LeaseKeyHashes.Count < task.Attempt - 1)
            task.LeaseKeyHashes.Add([]);
        var key = Secrets.New(Secrets.LeaseKeyBytes);
        task.LeaseKeyHashes.Add(Secrets.Hash(key));
        return key;
    }

    private static partial class Log
    {
        [LoggerMessage(6, LogLevel.Warning, "Job {Job}: refused a {Kind} call without the job's token")]
        public static partial void AccessDenied(ILogger logger, string job, string kind);
    }
}
