using Fisher.Contracts;
using Fisher.Grains;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;

namespace Fisher.Grains.Tests;

/// <summary>The cluster's message bound (FisherHosting.MaxMessageBodyBytes) admits the largest partial chunk and is what silos and clients use.</summary>
public sealed class MessageBoundsTests
{
    [Fact]
    public void The_largest_partial_chunk_fits_the_message_bound()
    {
        // MaxChunkElements doubles (mean and M2 together) over 16 streams with long parameter names.
        const int streams = 16;
        int perArray = FisherOptionsValidator.MaxChunkElements / 2 / streams;
        var slices = Enumerable.Range(0, streams)
            .Select(i => new MomentSlice($"{new string('p', 200)}.{i}.weight.i1_input_mean", long.MaxValue, int.MaxValue - perArray, perArray, new double[perArray], new double[perArray]))
            .ToArray();
        var chunk = new PartialChunk(new string('t', 200), int.MaxValue, int.MaxValue, int.MaxValue, long.MaxValue, slices, LeaseKey: new string('k', 64));
        var serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
        long bytes = serializer.SerializeToArray(chunk).LongLength;
        Assert.True(bytes > FisherOptionsValidator.MaxChunkElements * (long)sizeof(double), $"the chunk serialized to only {bytes} bytes");
        Assert.True(bytes < FisherHosting.MaxMessageBodyBytes, $"the largest chunk takes {bytes} bytes, over the bound of {FisherHosting.MaxMessageBodyBytes}");
    }

    [Fact]
    public void Silos_and_clients_take_the_bound()
    {
        var silo = Host.CreateApplicationBuilder();
        silo.UseOrleans(s => s.UseLocalhostClustering().UseFisherMessageBounds());
        using (var host = silo.Build())
        {
            var options = host.Services.GetRequiredService<IOptions<SiloMessagingOptions>>().Value;
            Assert.Equal(FisherHosting.MaxMessageBodyBytes, options.MaxMessageBodySize);
            Assert.Equal(FisherHosting.MaxMessageHeaderBytes, options.MaxMessageHeaderSize);
        }
        var client = Host.CreateApplicationBuilder();
        client.UseOrleansClient(c => c.UseLocalhostClustering().UseFisherMessageBounds());
        using (var host = client.Build())
        {
            var options = host.Services.GetRequiredService<IOptions<ClientMessagingOptions>>().Value;
            Assert.Equal(FisherHosting.MaxMessageBodyBytes, options.MaxMessageBodySize);
            Assert.Equal(FisherHosting.MaxMessageHeaderBytes, options.MaxMessageHeaderSize);
        }
        Assert.True(FisherHosting.MaxMessageBodyBytes < 100 * 1024 * 1024, "the bound should be tighter than Orleans' default");
    }
}
