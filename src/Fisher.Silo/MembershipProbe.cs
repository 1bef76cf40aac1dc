using Microsoft.Extensions.Options;

namespace Fisher.Silo;

/// <summary>
/// Whether this silo can read its own row of the membership table (Redis) and the row says Active: a read bounded by
/// <c>Fisher:Health:MembershipProbeTimeout</c> (default 2 s) whose answer is kept for
/// <c>Fisher:Health:MembershipProbeInterval</c> (default 2 s). Orleans keeps a silo Active in its own view while the
/// store is unreachable or has lost its data (Redis restarted without persistence): then no client can find a gateway
/// and no grain state can be written, so /health/ready must say so. Registered only with Redis membership.
/// </summary>
internal sealed class MembershipProbe(IMembershipTable table, ILocalSiloDetails silo, IOptions<SiloHealthOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private DateTimeOffset _checkedAt = DateTimeOffset.MinValue;
    private string? _problem = "membership not read yet";

    /// <summary>Null when the row was read and is Active; else what is wrong (for the /health/ready text).</summary>
    public async Task<string?> ProblemAsync(CancellationToken cancellation)
    {
        await _gate.WaitAsync(cancellation);
        try
        {
            if (DateTimeOffset.UtcNow - _checkedAt >= options.Value.MembershipProbeInterval)
            {
                _problem = await ReadAsync(cancellation);
                _checkedAt = DateTimeOffset.UtcNow;
            }
            return _problem;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<string?> ReadAsync(CancellationToken cancellation)
    {
        var timeout = options.Value.MembershipProbeTimeout;
        try
        {
            var data = await table.ReadRowAsync(silo.SiloAddress, cancellation).WaitAsync(timeout, cancellation);
            var row = data.Members.Select(m => m.Item1).FirstOrDefault(e => e.SiloAddress.Equals(silo.SiloAddress));
            return row is null ? "this silo has no row in the membership store (was it reset?)"
                : row.Status != SiloStatus.Active ? $"the membership store says {row.Status}"
                : null;
        }
        catch (TimeoutException)
        {
            return $"the membership store did not answer within {timeout.TotalSeconds:0.#} s";
        }
#pragma warning disable CA1031 // any failure of the store (connection refused, a Redis error) means not ready, with its name
        catch (Exception e) when (e is not OperationCanceledException)
#pragma warning restore CA1031
        {
            return $"the membership store failed: {e.GetType().Name}: {e.Message.Split('\n')[0]}";
        }
    }

    public void Dispose() => _gate.Dispose();
}
