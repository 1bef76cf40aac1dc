using System.Net;
using Fisher.Grains;

// Fisher.Silo: one Orleans silo hosting the job grains, in an ASP.NET Core host.
// Configuration (appsettings, environment variables with "__" for ":", or --Fisher:Redis=... arguments):
//   Fisher:Redis          Redis connection string: Redis membership and grain state (absent: localhost clustering, in-memory state)
//   Fisher:SiloPort       silo-to-silo port (default 11111)
//   Fisher:GatewayPort    client gateway port (default 30000)
//   Fisher:AdvertisedIP   address other silos and clients use (default 127.0.0.1; on Kubernetes the pod IP)
//   Fisher:Grains:*       FisherOptions (LeaseDuration, WorkerSlice, TasksPerSilo, ...)
//   FISHER_REDIS          shorthand for Fisher:Redis
var builder = WebApplication.CreateBuilder(args);
var config = builder.Configuration;
var redis = config["Fisher:Redis"] ?? Environment.GetEnvironmentVariable("FISHER_REDIS");
int siloPort = config.GetValue("Fisher:SiloPort", 11111);
int gatewayPort = config.GetValue("Fisher:GatewayPort", 30000);
var advertised = IPAddress.Parse(config["Fisher:AdvertisedIP"] ?? "127.0.0.1");

builder.UseOrleans(silo =>
{
    if (string.IsNullOrWhiteSpace(redis))
    {
        silo.UseLocalhostClustering(siloPort, gatewayPort);
        silo.AddFisherMemoryStorage();
    }
    else
    {
        silo.UseFisherRedis(redis);
        silo.ConfigureEndpoints(advertised, siloPort, gatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(advertised));
    }
    silo.UseFisherClusterIds();
    silo.AddFisherGrains();
    silo.Services.Configure<FisherOptions>(config.GetSection("Fisher:Grains"));
});

var app = builder.Build();
app.MapGet("/", () => Results.Text($"Fisher.Silo {(string.IsNullOrWhiteSpace(redis) ? "localhost clustering" : "Redis membership")}, silo port {siloPort}, gateway {gatewayPort}\n"));
app.MapGet("/health/live", () => Results.Text("live\n"));
app.Logger.LogInformation("Fisher.Silo: {Mode}, silo port {SiloPort}, gateway port {GatewayPort}", string.IsNullOrWhiteSpace(redis) ? "localhost clustering, in-memory state" : "Redis membership and state", siloPort, gatewayPort);
await app.RunAsync();
