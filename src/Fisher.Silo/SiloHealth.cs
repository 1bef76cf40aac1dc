using System.Net;
using Microsoft.Extensions.Options;

namespace Fisher.Silo;

/// <summary>
/// The silo's health as the /health/* endpoints report it. Starting: startup 503, ready 503. Running (every hosted
/// service started and this silo Active in the membership): startup 200, ready 200. Stopping (the host was asked to
/// stop): ready 503 for <c>Fisher:Health:DrainDelay</c> (default 1 s) before the server and the silo stop, so load
/// balancers and Kubernetes stop sending work first. /health/live answers 200 whenever the process serves HTTP, to
/// loopback callers only (others get 403) unless <c>Fisher:Health:LiveFromAnyAddress</c> is true. With Redis membership,
/// ready also needs this silo's row in the store to be readable and Active (<see cref="MembershipProbe"/>).
/// </summary>
internal sealed class SiloHealth(IServiceProvider services, IOptions<SiloHealthOptions> options, IHostApplicationLifetime lifetime) : IHostedLifecycleService
{
    private volatile bool _started;
    private volatile bool _stopping;

    // Read on use, not in the constructor: the host builds its hosted services before it validates options, and a
    // bad setting should be reported by the validator together with every other one.
    public TimeSpan DrainDelay => options.Value.DrainDelay;

    public bool LiveFromAnyAddress => options.Value.LiveFromAnyAddress;

    /// <summary>Every hosted service (the silo among them) has started.</summary>
    public bool Started => _started;

    /// <summary>Started, not stopping, and this silo is Active in the cluster's membership.</summary>
    public bool Ready => _started && !_stopping && services.GetService<ISiloStatusOracle>()?.CurrentStatus == SiloStatus.Active;

    /// <summary>
    /// Null when ready: <see cref="Ready"/> and, with Redis membership, this silo's row in the store is readable and
    /// Active (<see cref="MembershipProbe"/>); else why not.
    /// </summary>
    public async Task<string?> NotReadyBecauseAsync(CancellationToken cancellation)
    {
        if (!Ready)
            return Describe();
        return services.GetService<MembershipProbe>() is { } probe ? await probe.ProblemAsync(cancellation) : null;
    }

    public string Describe() =>
        _stopping ? "stopping" : !_started ? "starting" : $"silo {services.GetService<ISiloStatusOracle>()?.CurrentStatus.ToString() ?? "unknown"}";

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        // Not ready from the moment a stop is requested, before any service's stopping work (the workers' hand-back).
        lifetime.ApplicationStopping.Register(() => _stopping = true);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        _started = true;
        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        if (DrainDelay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(DrainDelay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>True for 127.0.0.0/8, ::1 and IPv4-mapped loopback addresses.</summary>
    public static bool IsLoopback(IPAddress? address) =>
        address is not null && (IPAddress.IsLoopback(address) || (address.IsIPv4MappedToIPv6 && IPAddress.IsLoopback(address.MapToIPv4())));
}
