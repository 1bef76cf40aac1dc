using Fisher.Contracts;

namespace Fisher.Grains;

/// <summary>Where an aggregator learns whether the job's coordinator issued a partial, and what it may hold.</summary>
internal interface IPartialLeases
{
    /// <summary>The lease of (task, attempt) of a job, or null when the partial must be rejected.</summary>
    Task<PartialLease?> AuthorizeAsync(string jobId, string taskId, int attempt);
}

/// <summary>The job's coordinator grain decides (<see cref="IFisherJobGrain.AuthorizePartialAsync"/>).</summary>
internal sealed class CoordinatorLeases(IGrainFactory grains) : IPartialLeases
{
    public Task<PartialLease?> AuthorizeAsync(string jobId, string taskId, int attempt) =>
        grains.GetGrain<IFisherJobGrain>(jobId).AuthorizePartialAsync(taskId, attempt, CancellationToken.None);
}
