using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Fisher.Grains.Telemetry;

/// <summary>
/// The project's meters and activity source, and the OpenTelemetry set-up shared by Fisher.Silo and the embedded CLI.
/// Labels are bounded: group, estimator, outcome (never a job id, task id or grain key; those go on spans only).
/// </summary>
public static class FisherTelemetry
{
    /// <summary>The activity source of the fisher.job, fisher.dispatch, fisher.task, fisher.ship and fisher.merge spans.</summary>
    public const string ActivitySourceName = "fisher";

    /// <summary>Orleans' own meter (about 40 orleans_* families).</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    /// <summary>Every meter of the project (one per component).</summary>
    public static IReadOnlyList<string> MeterNames { get; } = [JobMetrics.MeterName, WorkerMetrics.MeterName, AggregatorMetrics.MeterName];

    internal static string Version { get; } = typeof(FisherTelemetry).Assembly.GetName().Version?.ToString() ?? "0";

    internal static ActivitySource Source { get; } = new(ActivitySourceName, Version);

    /// <summary>Explicit bucket boundaries in seconds for the duration histograms (1 ms .. 10 s).</summary>
    internal static InstrumentAdvice<double> SecondsAdvice { get; } = new()
    {
        HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    };

    /// <summary>The OTLP endpoint traces go to: <c>Fisher:Otlp</c>, else <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>; null when neither is set.</summary>
    public static string? OtlpEndpoint(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var value = configuration["Fisher:Otlp"];
        if (string.IsNullOrWhiteSpace(value))
            value = configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT");
        return string.IsNullOrWhiteSpace(value) ? null : value;
    }

    /// <summary>
    /// Adds OpenTelemetry: with <paramref name="prometheus"/>, a meter provider with the fisher.* meters, Orleans' meter,
    /// .NET runtime (GC, heap) and process (RSS, CPU) instrumentation and the Prometheus exporter (map it with
    /// <c>MapPrometheusScrapingEndpoint()</c>); when an OTLP endpoint is configured, a tracer provider with the fisher and
    /// Orleans activity sources exporting with OTLP (the standard OTEL_EXPORTER_OTLP_* settings apply, e.g. the protocol).
    /// </summary>
    public static IServiceCollection AddFisherTelemetry(this IServiceCollection services, IConfiguration configuration, string serviceName, bool prometheus)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var otlp = OtlpEndpoint(configuration);
        if (!prometheus && otlp is null)
            return services;
        var builder = services.AddOpenTelemetry().ConfigureResource(r => r.AddService(serviceName, serviceVersion: Version));
        if (prometheus)
        {
            builder.WithMetrics(metrics => metrics
                .AddMeter([.. MeterNames, OrleansMeterName])
                .AddRuntimeInstrumentation()
                .AddProcessInstrumentation()
                .AddPrometheusExporter());
            services.AddHostedService<MeterStart>();
        }
        if (otlp is not null)
        {
            bool fromFisher = !string.IsNullOrWhiteSpace(configuration["Fisher:Otlp"]);
            builder.WithTracing(tracing => tracing
                .AddSource(ActivitySourceName, "Microsoft.Orleans.*")
                .AddOtlpExporter(o =>
                {
                    if (fromFisher)
                        o.Endpoint = new Uri(otlp);
                }));
        }
        return services;
    }

    /// <summary>
    /// Builds the meter provider at start and records zeros for the label-less counters, so that a scrape shows every
    /// family (and dashboards their zero) before anything happened.
    /// </summary>
    private sealed class MeterStart(MeterProvider provider) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            GC.KeepAlive(provider);
            JobMetrics.Initialize();
            WorkerMetrics.Initialize();
            AggregatorMetrics.Initialize();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    internal static KeyValuePair<string, object?> Group(string group) => new("group", group);

    internal static KeyValuePair<string, object?> Outcome(string outcome) => new("outcome", outcome);
}
