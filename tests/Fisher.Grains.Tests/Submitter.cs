using System.Collections.Concurrent;
using Fisher.Contracts;
using Fisher.Results;

namespace Fisher.Grains.Tests;

/// <summary>
/// Tests act as a job's submitter: these calls carry the access token the job's submission returned (kept per job id),
/// so tests that are not about access read as before. Tests of access (<see cref="JobAccessTests"/>) call the grains
/// with explicit tokens.
/// </summary>
internal static class Submitter
{
    private static readonly ConcurrentDictionary<string, string> Tokens = new();

    /// <summary>The access token the submission of <paramref name="jobId"/> returned.</summary>
    public static string TokenOf(string jobId) =>
        Tokens.TryGetValue(jobId, out var token) ? token : throw new InvalidOperationException($"job {jobId} was not submitted by this test process");

    /// <summary>Submits the job and keeps its token (a second submission of the same job gets none).</summary>
    public static async Task<JobTicket> Submit(IFisherJobGrain job, JobSpec spec)
    {
        var ticket = await job.SubmitAsync(spec);
        if (ticket.Token is not null)
            Tokens[job.GetPrimaryKeyString()] = ticket.Token;
        return ticket;
    }

    /// <summary>Submits the job, keeps its token and returns its status.</summary>
    public static async Task<JobStatus> StartAsync(this IFisherJobGrain job, JobSpec spec) => (await Submit(job, spec)).Status;

    public static Task<JobStatus> GetStatusAsync(this IFisherJobGrain job) => job.GetStatusAsync(TokenOf(job.GetPrimaryKeyString()));

    public static Task<JobStatus> CancelAsync(this IFisherJobGrain job) => job.CancelAsync(TokenOf(job.GetPrimaryKeyString()));

    /// <summary>The job's merged moments, read with its token.</summary>
    public static Task<IReadOnlyList<GroupMoments>> Fetch(IGrainFactory grains, JobStatus status) => JobResults.Fetch(grains, status, TokenOf(status.JobId));
}
