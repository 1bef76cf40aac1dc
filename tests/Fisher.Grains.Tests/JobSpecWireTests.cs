using Fisher.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Fisher.Grains.Tests;

/// <summary>
/// A job spec persisted by the code before typed specs (issue 12) still loads: <c>Fixtures/jobspec-v1.bin</c> is a
/// JobSpec serialized by Orleans from that code (quantities, grouping, precision and likelihood as strings).
/// <c>FISHER_WRITE_WIRE=1</c> rewrites the fixture from the current code.
/// </summary>
public sealed class JobSpecWireTests
{
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "Fixtures", "jobspec-v1.bin");

    private static Serializer Serializer() => new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    [Fact]
    public void A_spec_persisted_before_typed_specs_loads()
    {
        if (Environment.GetEnvironmentVariable("FISHER_WRITE_WIRE") == "1")
        {
            var old = new JobSpec
            {
                ModelPath = "/data/model.pt", ArchitecturePath = "/data/model.json", InputsPath = "/data/x.idx", LabelsPath = "/data/y.idx",
                Likelihood = "gaussian", Variance = 0.5, Quantities = "i1,i2,v1,bounds", DrawsPerInput = 4, FirstInput = 10, Inputs = 300,
                Shards = 3, Grouping = "tensor", BatchSize = 64, Seed = 99, Precision = "float64", MaxConcurrentTasks = 2,
                TargetRelativeError = 0.2, Delta = 0.1,
            };
            File.WriteAllBytes(Fixture, Serializer().SerializeToArray(old));
            return;
        }
        var spec = Serializer().Deserialize<JobSpec>(File.ReadAllBytes(Fixture))!;
        Assert.Equal("/data/model.pt", spec.ModelPath);
        Assert.Equal("/data/y.idx", spec.LabelsPath);
        Assert.Equal(0.5, spec.Variance);
        Assert.Equal(4, spec.DrawsPerInput);
        Assert.Equal(300, spec.Inputs);
        Assert.Equal(99UL, spec.Seed);
        Assert.Equal(0.2, spec.TargetRelativeError);
        Assert.Equal(0.1, spec.Delta);
    }
}
