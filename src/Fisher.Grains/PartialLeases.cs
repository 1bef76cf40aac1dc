using Fisher.Contracts;

namespace Fisher.Grains;

/// <summary>Where an aggregator learns what the job's coordinator issued: the lease of a partial, and read access.</summary>
internal interface IPartialLeases
{
    /// <summary>The lease of (task, attempt) of a job under <paramref name="leaseKey"/>, or null when the partial must be rejected.</summary>
    Task<PartialLease?> AuthorizeAsync(string jobId, string taskId, int attempt, string leaseKey);

    /// <summary>Whether <paramref name="token"/> may read the job's merged results.</summary>
    Task<bool> AuthorizeReadAsync(string jobId, string token);
}

/// <summary>The job's coordinator grain decides (<see cref="IFisherJobGrain.AuthorizePartialAsync"/>, <see cref="IFisherJobGrain.AuthorizeReadAsync"/>).</summary>
internal sealed class CoordinatorLeases(IGrainFactory grains) : IPartialLeases
{
    public Task<PartialLease?> AuthorizeAsync(string jobId, string taskId, int attempt, string leaseKey) =>
        grains.GetGrain<IFisherJobGrain>(jobId).AuthorizePartialAsync(taskId, attempt, leaseKey, CancellationToken.None);

    public Task<bool> AuthorizeReadAsync(string jobId, string token) =>
        grains.GetGrain<IFisherJobGrain>(jobId).AuthorizeReadAsync(token, CancellationToken.None);
}
