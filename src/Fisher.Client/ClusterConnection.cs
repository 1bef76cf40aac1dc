using System.Net;
using System.Net.Sockets;
using Fisher.Grains;
using Fisher.Grains.Security;
using Fisher.Grains.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Polly;
using Polly.Retry;

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
            .AddFisherGrains(o => o.PersistAggregates = false) // one process: nothing to persist for
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
    /// Connects to a running cluster: <c>redis</c> is a Redis connection string, <c>gateway</c> a host:port; with
    /// <paramref name="tls"/>, over mutual TLS (<see cref="FisherTls"/>).
    /// </summary>
    public static async Task<ClusterConnection> Connect(string? redis, string? gateway, TlsFiles? tls, bool verbose, CancellationToken cancellation)
    {
        var credentials = tls is null ? null : TlsCredentials.Load(tls); // a bad file is reported before any connection attempt
        if (!string.IsNullOrWhiteSpace(redis))
            await RedisAccess.CheckAsync(redis); // a refused password is one line, not minutes of retries
        var builder = Host.CreateApplicationBuilder();
        ConfigureLogging(builder.Logging, verbose);
        builder.Services.AddFisherTelemetry(builder.Configuration, "fisher-cli", prometheus: false); // OTLP traces when configured
        builder.UseOrleansClient(client =>
        {
            client.AddActivityPropagation();
            client.UseFisherMessageBounds();
            if (credentials is not null)
                client.UseFisherTls(credentials);
            if (!string.IsNullOrWhiteSpace(redis))
            {
                client.UseFisherRedis(redis);
            }
            else
            {
                var endpoint = ParseEndpoint(gateway!);
                client.UseStaticClustering(endpoint);
                client.Configure<ClusterOptions>(o =>
                {
                    o.ClusterId = FisherHosting.ClusterId;
                    o.ServiceId = FisherHosting.ServiceId;
                });
            }
        });
        var host = builder.Build();
        // The cluster may still be starting: retry the connection on the exceptions a missing gateway gives.
        var pipeline = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<OrleansException>().Handle<SocketException>().Handle<TimeoutException>(),
            MaxRetryAttempts = 5,
            Delay = TimeSpan.FromSeconds(1),
            BackoffType = DelayBackoffType.Exponential,
        }).Build();
        await pipeline.ExecuteAsync(async ct => await host.StartAsync(ct), cancellation);
        return new ClusterConnection(host, redis is not null ? $"cluster via Redis {RedisAccess.Describe(redis)}" : $"cluster via gateway {gateway}");
    }

    private static IPEndPoint ParseEndpoint(string text)
    {
        if (IPEndPoint.TryParse(text, out var endpoint) && endpoint.Port != 0)
            return endpoint;
        var parts = text.Split(':');
        if (parts.Length == 2 && int.TryParse(parts[1], out var port))
        {
            var address = Dns.GetHostAddresses(parts[0]).FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
                ?? throw new ArgumentException($"--gateway: cannot resolve '{parts[0]}'");
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
