using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Fisher.Data;
using Fisher.Grains;
using Fisher.Grains.Security;
using Fisher.Grains.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Fisher.Client;

/// <summary>
/// Where jobs run: an in-process silo (the default, nothing to install) or a running cluster reached through
/// Redis membership or a gateway address.
/// </summary>
internal sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterConnection(IHost host, string description)
    {
        _host = host;
        Description = description;
    }

    public IClusterClient Client => _host.Services.GetRequiredService<IClusterClient>();

    public string Description { get; }

    /// <summary>The <c>FISHER_METRICS_PORT</c> environment variable, when it holds a port number.</summary>
    private static int? EnvironmentMetricsPort =>
        int.TryParse(Environment.GetEnvironmentVariable("FISHER_METRICS_PORT"), out var port) && port > 0 ? port : null;

    /// <summary>
    /// Starts one silo in this process on free loopback ports, with in-memory grain state. With
    /// <paramref name="metricsPort"/> (<c>fisher estimate --metrics-port N</c>; unset: the <c>FISHER_METRICS_PORT</c>
    /// environment variable, else none) the silo serves Prometheus <c>/metrics</c> on 127.0.0.1:N (a minimal Kestrel
    /// host in this process).
    /// </summary>
    public static async Task<ClusterConnection> StartEmbedded(bool verbose, int? metricsPort, CancellationToken cancellation)
    {
        int siloPort = FreePort(), gatewayPort = FreePort();
        void Silo(ISiloBuilder silo) => silo
            .UseLocalhostClustering(siloPort, gatewayPort)
            .Configure<EndpointOptions>(o => o.AdvertisedIPAddress = IPAddress.Loopback)
            .UseFisherClusterIds()
            .AddFisherGrains(o =>
            {
                o.PersistAggregates = false; // one process: nothing to persist for
                o.DataRoots = [.. DataRoots.Everywhere.Roots]; // the user's own process reads what the user can (regular files only)
            })
            .AddFisherMemoryStorage()
            .UseFisherMessageBounds()
            .AddActivityPropagation();
        IHost host;
        string metrics = "";
        if ((metricsPort ?? EnvironmentMetricsPort) is int port)
        {
            var web = WebApplication.CreateSlimBuilder();
            web.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, port));
            ConfigureLogging(web.Logging, verbose);
            web.UseOrleans(Silo);
            web.Services.AddFisherTelemetry(web.Configuration, "fisher-cli", prometheus: true);
            var app = web.Build();
            app.MapPrometheusScrapingEndpoint();
            host = app;
            metrics = $", metrics on http://127.0.0.1:{port}/metrics";
        }
        else
        {
            var builder = Host.CreateApplicationBuilder();
            ConfigureLogging(builder.Logging, verbose);
            builder.UseOrleans(Silo);
            builder.Services.AddFisherTelemetry(builder.Configuration, "fisher-cli", prometheus: false); // OTLP traces when configured
            host = builder.Build();
        }
        await host.StartAsync(cancellation);
        return new ClusterConnection(host, $"embedded silo (127.0.0.1:{siloPort}{metrics})");
    }

    /// <summary>
    /// How long <see cref="Connect"/> tries to reach a cluster before the command gives up when <c>--connect-timeout</c>
    /// is not given: the <c>FISHER_CONNECT_TIMEOUT</c> environment variable (seconds; the process tests lengthen it on a
    /// loaded machine), else 15 s.
    /// </summary>
    public static TimeSpan DefaultConnectTimeout =>
        double.TryParse(Environment.GetEnvironmentVariable("FISHER_CONNECT_TIMEOUT"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 && s < 86_400
            ? TimeSpan.FromSeconds(s)
            : TimeSpan.FromSeconds(15);

    /// <summary>
    /// Connects to a running cluster: <c>redis</c> is a Redis connection string, <c>gateway</c> a host:port. The cluster
    /// may still be starting, so failed attempts are retried until <paramref name="timeout"/>; then the command fails
    /// with <see cref="ExitCodes.Unreachable"/>, naming what it tried and the last error. With <paramref name="tls"/>, over
    /// mutual TLS (<see cref="FisherTls"/>).
    /// </summary>
    public static async Task<ClusterConnection> Connect(string? redis, string? gateway, TlsFiles? tls, bool verbose, TimeSpan timeout, CancellationToken cancellation)
    {
        string target = !string.IsNullOrWhiteSpace(redis) ? $"Redis {RedisAccess.Describe(redis)}" : $"gateway {gateway}";
        var endpoint = string.IsNullOrWhiteSpace(redis) ? ParseEndpoint(gateway!) : null;
        var credentials = tls is null ? null : TlsCredentials.Load(tls); // a bad file is reported before any connection attempt
        if (!string.IsNullOrWhiteSpace(redis))
            await RedisAccess.CheckAsync(redis); // a refused password is one line, not minutes of retries
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(timeout);
        var attempts = new ConnectAttempts(deadline.Token);
        var builder = Host.CreateApplicationBuilder();
        ConfigureLogging(builder.Logging, verbose);
        builder.Services.AddFisherTelemetry(builder.Configuration, "fisher-cli", prometheus: false); // OTLP traces when configured
        builder.UseOrleansClient(client =>
        {
            client.AddActivityPropagation();
            client.UseConnectionRetryFilter(attempts.RetryAsync);
            client.UseFisherMessageBounds();
            if (credentials is not null)
                client.UseFisherTls(credentials);
            if (endpoint is null)
            {
                client.UseFisherRedis(redis!);
                // Restarted silos are found in seconds, not after Orleans' default minute.
                client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(5));
            }
            else
            {
                client.UseStaticClustering(endpoint);
                client.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = FisherHosting.ClusterId;
                    o.ServiceId = FisherHosting.ServiceId;
                });
            }
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(deadline.Token).WaitAsync(deadline.Token);
        }
        catch (Exception e) when (!cancellation.IsCancellationRequested)
        {
            // The host is left as it is: stopping a half-started client can itself wait on the unreachable cluster.
            throw new CommandFailedException(ExitCodes.Unreachable,
                string.Create(CultureInfo.InvariantCulture, $"could not connect to the cluster through {target} within {timeout.TotalSeconds:0} s (--connect-timeout; {attempts.Count} attempt{(attempts.Count == 1 ? "" : "s")}; last error: {(attempts.Last is { } last ? ExceptionText.FirstLine(last) : "none reported, nothing answered")})"), e);
        }
        return new ClusterConnection(host, $"cluster via {target}");
    }

    /// <summary>The client's connection attempts: each failure is kept for the message and retried after a short pause until the deadline.</summary>
    private sealed class ConnectAttempts(CancellationToken deadline)
    {
        public int Count { get; private set; } = 1;

        public Exception? Last { get; private set; }

        public async Task<bool> RetryAsync(Exception exception, CancellationToken cancellation)
        {
            Last = exception;
            using var both = CancellationTokenSource.CreateLinkedTokenSource(deadline, cancellation);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(4, Count)), both.Token);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
            Count++;
            return true;
        }
    }

    private static IPEndPoint ParseEndpoint(string text)
    {
        if (IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port != 0)
            return endpoint;
        var parts = text.Split(':');
        if (parts.Length == 2 && int.TryParse(parts[1], out var port))
        {
            IPAddress[] addresses;
            try
            {
                addresses = Dns.GetHostAddresses(parts[0]);
            }
            catch (SocketException e)
            {
                throw new ArgumentException($"--gateway: cannot resolve '{parts[0]}': {e.Message}", e);
            }
            var address = addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? throw new ArgumentException($"--gateway: no IPv4 address for '{parts[0]}'");
            return new IPEndPoint(address, port);
        }
        throw new ArgumentException($"--gateway: expected host:port, got '{text}'");
    }

    private static void ConfigureLogging(ILoggingBuilder logging, bool verbose)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(o => o.SingleLine = true);
        logging.SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Error);
        // Orleans logs a warning for every dropped connection of a stopping silo; only errors matter to a user.
        logging.AddFilter("Orleans", verbose ? LogLevel.Warning : LogLevel.Critical);
        logging.AddFilter("Microsoft", verbose ? LogLevel.Warning : LogLevel.Critical);
        logging.AddFilter("Polly", verbose ? LogLevel.Warning : LogLevel.Critical); // Orleans' placement retries (e.g. while the embedded silo stops)
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _host.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
        }
        _host.Dispose();
    }
}
