using System.Collections.Concurrent;
using Fisher.Contracts;
using Fisher.Estimators;
using Microsoft.Extensions.DependencyInjection;

namespace Fisher.Grains.Tests;

/// <summary>
/// Leases for aggregator tests that have no coordinator: a job id starting with <see cref="Prefix"/> gets the leases
/// granted here (under <see cref="Key"/>) and is read with <see cref="Token"/>; every other job asks its coordinator, as in production.
/// </summary>
internal sealed class TestLeases(IGrainFactory grains) : IPartialLeases
{
    public const string Prefix = "direct-";

    /// <summary>The lease key of every test lease.</summary>
    public const string Key = "test-lease-key";

    /// <summary>The access token of every job of <see cref="Prefix"/>.</summary>
    public const string Token = "test-token";

    private static readonly ConcurrentDictionary<(string Job, string Task), PartialLease> Granted = new();

    private readonly CoordinatorLeases _coordinator = new(grains);

    /// <summary>Grants every attempt of <paramref name="task"/> of <paramref name="job"/> (which must start with <see cref="Prefix"/>).</summary>
    public static void Grant(string job, string task, long rows, params (string Name, int Size)[] parameters) =>
        Granted[(job, task)] = new PartialLease(task, rows, parameters.Select(p => p.Name).ToArray(), parameters.Select(p => p.Size).ToArray(),
            FisherQuantityNames.Singles.Select(q => q.Key()).ToArray());

    public Task<PartialLease?> AuthorizeAsync(string jobId, string taskId, int attempt, string leaseKey) =>
        jobId.StartsWith(Prefix, StringComparison.Ordinal)
            ? Task.FromResult(attempt >= 1 && leaseKey == Key ? Granted.GetValueOrDefault((jobId, taskId)) : null)
            : _coordinator.AuthorizeAsync(jobId, taskId, attempt, leaseKey);

    public Task<bool> AuthorizeReadAsync(string jobId, string token) =>
        jobId.StartsWith(Prefix, StringComparison.Ordinal) ? Task.FromResult(token == Token) : _coordinator.AuthorizeReadAsync(jobId, token);

    /// <summary>Registers the test leases in a silo (before AddFisherGrains, which only adds the production ones when none are there).</summary>
    public static void AddTo(IServiceCollection services) => services.AddSingleton<IPartialLeases, TestLeases>();
}
