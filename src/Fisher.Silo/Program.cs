using System.Net;
using Fisher.Grains;
using Fisher.Grains.Security;
using Fisher.Grains.Telemetry;
using Fisher.Silo;

// Fisher.Silo: one Orleans silo hosting the job grains, in an ASP.NET Core host.
// Configuration (appsettings, environment variables with "__" for ":", or --Fisher:Redis=... arguments):
//   Fisher:Redis          Redis connection string: Redis membership and grain state (absent: localhost clustering, in-memory
//                         state); "host:port,password=...,ssl=true" for a Redis with a password and TLS
//   FISHER_REDIS          shorthand for Fisher:Redis
//   Fisher:Tls:Certificate, Fisher:Tls:Key, Fisher:Tls:CA
//                         PEM files of this silo's certificate, its key and the cluster CA: mutual TLS on the silo and
//                         gateway ports (required with Fisher:Redis unless Fisher:Tls:Disabled=true; docs/security.md)
//   Fisher:SiloPort       silo-to-silo port (default 11111)
//   Fisher:GatewayPort    client gateway port (default 30000)
//   Fisher:AdvertisedIP   address other silos and clients use (default 127.0.0.1; on Kubernetes the pod IP)
//   Fisher:SiloName       the silo's name in the membership and logs (default: Orleans' own; on Kubernetes the pod name)
//   Fisher:Http:Address   health endpoints (default 127.0.0.1:8080); Fisher:Http:MetricsAddress: /metrics (default: the same)
//   Fisher:Grains:*       FisherOptions (LeaseDuration, WorkerSlice, TasksPerSilo, ComputeThreadCount, StateExpiry, ...)
//   Fisher:Otlp           OTLP (gRPC) endpoint for traces (or the standard OTEL_EXPORTER_OTLP_ENDPOINT); absent: no tracing
//   Fisher:Health:*       DrainDelay (ready answers 503 this long before stopping, default 1 s), LiveFromAnyAddress,
//                         MembershipProbeTimeout, MembershipProbeInterval (ready reads this silo's Redis membership row)
// Endpoints: /metrics (Prometheus), /health/live, /health/ready, /health/startup (README.md).
var builder = WebApplication.CreateBuilder(args);
var config = builder.Configuration;
var redis = config["Fisher:Redis"] ?? Environment.GetEnvironmentVariable("FISHER_REDIS");
SiloHttp http;
TlsCredentials? tls;
try
{
    http = SiloHttp.From(config);
    tls = SiloTls.Load(config, clustered: !string.IsNullOrWhiteSpace(redis));
    if (!string.IsNullOrWhiteSpace(redis))
        await RedisAccess.CheckAsync(redis);
}
catch (Exception e) when (e is SiloSettingException or TlsSetupException or RedisAccessException)
{
    await Console.Error.WriteLineAsync($"Fisher.Silo: {e.Message}");
    return 2;
}
http.Listen(builder);
// Kestrel answers /health/* while the silo is still starting (startup and ready say 503 until it is Active).
builder.Services.Configure<HostOptions>(o => o.ServicesStartConcurrently = true);
builder.Services.AddSiloHealth(config);
builder.Services.AddFisherTelemetry(config, "fisher-silo", prometheus: true);
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
        silo.Services.AddSingleton<MembershipProbe>(); // /health/ready reads this silo's membership row
        silo.ConfigureEndpoints(advertised, siloPort, gatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(advertised));
    }
    if (tls is not null)
        silo.UseFisherTls(tls);
    if (config["Fisher:SiloName"] is { Length: > 0 } siloName)
        silo.Configure<Orleans.Configuration.SiloOptions>(o => o.SiloName = siloName);
    silo.UseFisherMessageBounds();
    silo.UseFisherClusterIds();
    silo.AddFisherGrains();
    silo.AddActivityPropagation();
    silo.Services.Configure<FisherOptions>(config.GetSection(FisherOptions.SectionName));
});

var app = builder.Build();
http.Confine(app);
string mode = $"{(string.IsNullOrWhiteSpace(redis) ? "localhost clustering, in-memory state" : "Redis membership and state")}, {(tls is null ? "no TLS" : "mutual TLS")}";
app.MapGet("/", () => Results.Text($"Fisher.Silo {mode}, silo port {siloPort}, gateway {gatewayPort}\n"));
app.MapPrometheusScrapingEndpoint();
app.MapFisherHealth();
Log.SiloStarting(app.Logger, mode, siloPort, gatewayPort);
if (tls is null && !string.IsNullOrWhiteSpace(redis))
    Log.InsecureCluster(app.Logger);
await app.RunAsync();
return 0;
