using System.Net;

namespace Fisher.Silo;

/// <summary>
/// Where the silo's HTTP server listens: <c>Fisher:Http:Address</c> (health endpoints) and
/// <c>Fisher:Http:MetricsAddress</c> (<c>/metrics</c>; default: the same address). Kestrel listens on exactly these
/// (ASP.NET's <c>--urls</c> is overridden), and when they differ each path answers only on its own listener, told apart
/// by the local port of the connection (not by the Host header, which a caller chooses).
/// </summary>
internal sealed record SiloHttp(IPEndPoint Health, IPEndPoint Metrics)
{
    public const string AddressKey = "Fisher:Http:Address";
    public const string MetricsAddressKey = "Fisher:Http:MetricsAddress";

    /// <summary>Loopback only: a probe or scraper from elsewhere needs an explicit address (e.g. 0.0.0.0:8080).</summary>
    public const string DefaultAddress = "127.0.0.1:8080";

    /// <summary>The configured addresses; a bad one is a one-line <see cref="SiloSettingException"/>.</summary>
    public static SiloHttp From(IConfiguration config)
    {
        var health = Parse(AddressKey, config[AddressKey] ?? DefaultAddress);
        var metrics = config[MetricsAddressKey] is { } m ? Parse(MetricsAddressKey, m) : health;
        if (!metrics.Equals(health) && metrics.Port == health.Port)
            throw new SiloSettingException($"{MetricsAddressKey} must use another port than {AddressKey} ({health.Port}) when the addresses differ");
        return new SiloHttp(health, metrics);
    }

    /// <summary>True when /metrics has a listener of its own.</summary>
    public bool Apart => !Metrics.Equals(Health);

    private static IPEndPoint Parse(string key, string text) =>
        IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port != 0
            ? endpoint
            : throw new SiloSettingException($"{key} must be an IP address and port (e.g. 127.0.0.1:8080 or 0.0.0.0:8080), got '{text}'");

    /// <summary>Listens on the configured addresses only.</summary>
    public void Listen(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(Health);
            if (Apart)
                k.Listen(Metrics);
        });
    }

    /// <summary>When apart: /metrics answers 404 on the health listener, every other path 404 on the metrics listener.</summary>
    public void Confine(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!Apart)
            return;
        app.Use((context, next) =>
        {
            bool metricsPath = context.Request.Path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase);
            int port = metricsPath ? Metrics.Port : Health.Port;
            if (context.Connection.LocalPort == port)
                return next(context);
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
    }
}
