using Fisher.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Storage;
using StackExchange.Redis;

namespace Fisher.Grains;

/// <summary>Silo and client set-up shared by the silo host, the embedded CLI and the tests.</summary>
public static class FisherHosting
{
    /// <summary>The grain storage the job and aggregator grains persist to.</summary>
    public const string StorageName = "fisher";

    /// <summary>The Orleans cluster and service id of every Fisher silo and client.</summary>
    public const string ClusterId = "fisher";

    /// <summary>Service id (Redis keys are prefixed with it).</summary>
    public const string ServiceId = "fisher";

    /// <summary>Where a silo's data roots are configured, as messages name it.</summary>
    public const string DataRootsSetting = FisherOptions.SectionName + ":" + nameof(FisherOptions.DataRoots);

    /// <summary>
    /// Largest message body a Fisher silo or client sends or accepts (19 MiB): the largest partial chunk
    /// (<see cref="FisherOptionsValidator.MaxChunkElements"/> doubles, which Orleans writes as 9 bytes each: a field
    /// header and the value) and 1 MiB for its keys and framing. A peer that announces more is disconnected before
    /// anything of that size is allocated (Orleans' own default is 100 MB). <c>MessageBoundsTests</c> serializes that chunk.
    /// </summary>
    public const int MaxMessageBodyBytes = FisherOptionsValidator.MaxChunkElements * (sizeof(double) + 1) + (1 << 20);

    /// <summary>Largest message header (call target, ids, request context such as trace ids).</summary>
    public const int MaxMessageHeaderBytes = 256 * 1024;

    /// <summary>Bounds the size of every message this silo sends or accepts (<see cref="MaxMessageBodyBytes"/>).</summary>
    public static ISiloBuilder UseFisherMessageBounds(this ISiloBuilder silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        return silo.Configure<SiloMessagingOptions>(Bound);
    }

    /// <summary>Bounds the size of every message this client sends or accepts (<see cref="MaxMessageBodyBytes"/>).</summary>
    public static IClientBuilder UseFisherMessageBounds(this IClientBuilder client)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.Configure<ClientMessagingOptions>(Bound);
    }

    private static void Bound(MessagingOptions options)
    {
        options.MaxMessageBodySize = MaxMessageBodyBytes;
        options.MaxMessageHeaderSize = MaxMessageHeaderBytes;
    }

    /// <summary>Adds the job grains' options (validated at start) and the silo's compute threads; storage, clustering and ids are added by the caller.</summary>
    public static ISiloBuilder AddFisherGrains(this ISiloBuilder silo, Action<FisherOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Services.AddOptions<FisherOptions>().Configure(o => configure?.Invoke(o)).ValidateOnStart();
        silo.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FisherOptions>, FisherOptionsValidator>());
        silo.Services.TryAddSingleton<IPartialLeases, CoordinatorLeases>();
        silo.Services.AddSingleton(services => new DataRoots(services.GetRequiredService<IOptions<FisherOptions>>().Value.DataRoots, DataRootsSetting));
        silo.Services.AddSingleton(services => new ComputeThreads(services.GetRequiredService<IOptions<FisherOptions>>().Value.ComputeThreadCount));
        // A stop request makes this silo's workers hand their tasks back before Orleans stops (scale-down, SIGTERM).
        silo.Services.AddSingleton<SiloDrain>();
        silo.Services.AddHostedService(services => services.GetRequiredService<SiloDrain>());
        return silo;
    }

    /// <summary>The cluster and service ids every Fisher silo and client share (Redis keys are prefixed with them).</summary>
    public static ISiloBuilder UseFisherClusterIds(this ISiloBuilder silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        return silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = ClusterId;
            o.ServiceId = ServiceId;
        });
    }

    /// <summary>In-memory grain state: the embedded single-silo default.</summary>
    public static ISiloBuilder AddFisherMemoryStorage(this ISiloBuilder silo)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.AddMemoryGrainStorage(StorageName);
        // The default JSON serializer turned a 26 MB aggregate into 71 MB of JSON per merge (1-2 s each); binary: 0.06 s.
        silo.Services.AddOptions<MemoryGrainStorageOptions>(StorageName)
            .Configure<IServiceProvider>((o, services) => o.GrainStorageSerializer = ActivatorUtilities.CreateInstance<OrleansGrainStorageSerializer>(services));
        return silo;
    }

    /// <summary>Redis membership and Redis grain state (binary serializer: arrays of doubles), for real clusters.</summary>
    public static ISiloBuilder UseFisherRedis(this ISiloBuilder silo, string connectionString, bool clustering = true)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        if (clustering)
            silo.UseRedisClustering(o => o.ConfigurationOptions = RedisOptions(connectionString));
        silo.AddRedisGrainStorage(StorageName, builder => builder.Configure<IServiceProvider>((o, services) =>
        {
            o.ConfigurationOptions = RedisOptions(connectionString);
            o.GrainStorageSerializer = ActivatorUtilities.CreateInstance<OrleansGrainStorageSerializer>(services);
            // Finished jobs' moments do not pile up in Redis forever.
            o.EntryExpiry = services.GetRequiredService<IOptions<FisherOptions>>().Value.StateExpiry;
        }));
        return silo;
    }

    /// <summary>Redis gateway discovery for a client of a Redis-membership cluster.</summary>
    public static IClientBuilder UseFisherRedis(this IClientBuilder client, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.UseRedisClustering(o => o.ConfigurationOptions = RedisOptions(connectionString));
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = ClusterId;
            o.ServiceId = ServiceId;
        });
        return client;
    }

    private static ConfigurationOptions RedisOptions(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false;
        return options;
    }
}
