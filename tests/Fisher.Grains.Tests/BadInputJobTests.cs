using System.Text;
using Fisher.Contracts;

namespace Fisher.Grains.Tests;

/// <summary>Bad input fails its job with a message naming the file, rows and problem; the cluster and other jobs carry on.</summary>
[Collection("clusters")]
public sealed class BadInputJobTests(ThreeSiloCluster fixture) : IClassFixture<ThreeSiloCluster>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("fisher-bad-input-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Writes an NPY v1 file of int64 values.</summary>
    private string Labels(string name, long[] values)
    {
        var path = Path.Combine(_folder, name);
        var header = $"{{'descr': '<i8', 'fortran_order': False, 'shape': ({values.Length},), }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        using var file = File.Create(path);
        file.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        file.Write(BitConverter.GetBytes((ushort)header.Length));
        file.Write(Encoding.ASCII.GetBytes(header));
        foreach (var v in values)
            file.Write(BitConverter.GetBytes(v));
        return path;
    }

    [Fact]
    public async Task ALabelOutOfRangeFailsTheJobNamingFileAndRowsAndTheNextJobRuns()
    {
        var labels = Enumerable.Range(0, 2000).Select(i => (long)(i % 10)).ToArray();
        labels[1500] = 12;
        var spec = TestData.Spec(inputs: 0, shards: 4, grouping: "layer", quantities: "exact,empirical", draws: 1) with { LabelsPath = Labels("labels.npy", labels) };
        var failed = await TestData.RunToEnd(fixture.Cluster.GrainFactory, "bad-" + Guid.NewGuid().ToString("N")[..8], spec, TestTimeouts.Job);
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Contains("labels.npy", failed.Error, StringComparison.Ordinal);
        Assert.Contains("out of range", failed.Error, StringComparison.Ordinal);
        Assert.Contains("class label 12", failed.Error, StringComparison.Ordinal);
        Assert.Contains("rows 1500..1563", failed.Error, StringComparison.Ordinal); // shard 3 starts at row 1500; batches of 64

        var good = await TestData.RunToEnd(fixture.Cluster.GrainFactory, "after-bad-" + Guid.NewGuid().ToString("N")[..8],
            TestData.Spec(inputs: 200, shards: 2, grouping: "layer", quantities: "exact", draws: 1), TestTimeouts.Job);
        Assert.True(good.State == JobState.Completed, good.Error);
    }

    [Fact]
    public async Task AMismatchedArchitectureFailsAtStartListingTheKeys()
    {
        var architecture = Path.Combine(_folder, "wrong.json");
        File.WriteAllText(architecture, """{"widths": [784, 100, 64, 10], "activations": ["tanh", "tanh"], "likelihood": "categorical"}""");
        var status = await fixture.Cluster.GrainFactory.GetGrain<IFisherJobGrain>("mismatch-" + Guid.NewGuid().ToString("N")[..8])
            .StartAsync(TestData.Spec(inputs: 100, shards: 1, grouping: "layer") with { ArchitecturePath = architecture });
        Assert.Equal(JobState.Failed, status.State);
        Assert.Contains("0.weight", status.Error, StringComparison.Ordinal);
        Assert.Contains("[128, 784]", status.Error, StringComparison.Ordinal);
        Assert.Contains("[100, 784]", status.Error, StringComparison.Ordinal);
    }
}
