using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using HttpResults = Microsoft.AspNetCore.Http.Results;

namespace Fisher.Silo;

/// <summary>Registers the silo's health and maps /health/live, /health/ready and /health/startup.</summary>
internal static class HealthEndpoints
{
    /// <summary>Adds <see cref="SiloHealth"/> as a hosted service, with its options bound to <c>Fisher:Health</c> and validated at start.</summary>
    public static IServiceCollection AddSiloHealth(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<SiloHealthOptions>().Bind(configuration.GetSection(SiloHealthOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SiloHealthOptions>, SiloHealthOptionsValidator>());
        // The whole stop (drain delay, hand-back of tasks, Orleans' stop) is bounded by Fisher:Health:ShutdownTimeout.
        // The host reads its options as it is built, before the validator reports bad settings: bind a copy here, and
        // leave a value that does not bind or is not positive to the validator's report.
        services.AddOptions<HostOptions>().Configure(host =>
        {
            var health = new SiloHealthOptions();
            try
            {
                configuration.GetSection(SiloHealthOptions.SectionName).Bind(health);
            }
            catch (InvalidOperationException)
            {
                return;
            }
            if (health.ShutdownTimeout > TimeSpan.Zero)
                host.ShutdownTimeout = health.ShutdownTimeout;
        });
        services.AddSingleton<SiloHealth>();
        services.AddHostedService(sp => sp.GetRequiredService<SiloHealth>());
        return services;
    }

    public static IEndpointRouteBuilder MapFisherHealth(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/health/live", (HttpContext context, SiloHealth health) =>
            health.LiveFromAnyAddress || SiloHealth.IsLoopback(context.Connection.RemoteIpAddress)
                ? HttpResults.Text("live\n")
                : HttpResults.Text("live answers local callers only\n", statusCode: StatusCodes.Status403Forbidden));
        app.MapGet("/health/startup", (SiloHealth health) =>
            health.Started ? HttpResults.Text("started\n") : HttpResults.Text($"{health.Describe()}\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapGet("/health/ready", async (SiloHealth health, CancellationToken cancellation) =>
            await health.NotReadyBecauseAsync(cancellation) is not { } problem
                ? HttpResults.Text("ready\n")
                : HttpResults.Text($"not ready: {problem}\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        return app;
    }
}
