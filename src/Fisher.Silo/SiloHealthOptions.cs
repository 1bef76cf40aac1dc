namespace Fisher.Silo;

/// <summary>How the silo's /health/* endpoints behave (section <see cref="SectionName"/>; checked at start by <see cref="SiloHealthOptionsValidator"/>).</summary>
internal sealed class SiloHealthOptions
{
    /// <summary>The configuration section: <c>Fisher:Health:DrainDelay</c>, <c>Fisher:Health:LiveFromAnyAddress</c>, <c>Fisher:Health:MembershipProbeTimeout</c>, <c>Fisher:Health:MembershipProbeInterval</c>.</summary>
    public const string SectionName = "Fisher:Health";

    /// <summary>How long /health/ready answers 503 before the server and the silo stop, so load balancers stop sending work first.</summary>
    public TimeSpan DrainDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The most a stop (SIGTERM) may take, from the request to the process's exit: the drain delay, the workers' hand-back
    /// of their tasks (<c>Fisher:Grains:HandBackTimeout</c>) and Orleans' stop; the host's <c>HostOptions.ShutdownTimeout</c>.
    /// A Kubernetes pod's <c>terminationGracePeriodSeconds</c> must be longer.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Answer /health/live to any caller; by default only loopback callers get 200 (others 403).</summary>
    public bool LiveFromAnyAddress { get; set; }

    /// <summary>How long /health/ready waits for its read of this silo's membership row (Redis membership only).</summary>
    public TimeSpan MembershipProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long /health/ready reuses the last membership read (so probes cost Redis one read per interval).</summary>
    public TimeSpan MembershipProbeInterval { get; set; } = TimeSpan.FromSeconds(2);
}
