using Fisher.Contracts;
using Fisher.Estimators;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace Fisher.Grains.Tests;

/// <summary>
/// A job spec persisted by the code before typed specs still loads, and a typed spec crosses the wire intact.
/// <c>Fixtures/jobspec-v1.bin</c> was serialized by Orleans from the string-typed spec (commit 98419fb) with likelihood
/// "gaussian", quantities "i1,i2,v1,bounds", grouping "tensor" and precision "float64".
/// </summary>
public sealed class JobSpecWireTests
{
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "Fixtures", "jobspec-v1.bin");

    private static Serializer Serializer() => new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();

    [Fact]
    public void A_spec_persisted_before_typed_specs_loads_with_its_typed_values()
    {
        var spec = Serializer().Deserialize<JobSpec>(File.ReadAllBytes(Fixture))!;

        Assert.Equal("/data/model.pt", spec.ModelPath);
        Assert.Equal("/data/y.idx", spec.LabelsPath);
        Assert.Equal(LikelihoodFamily.Gaussian, spec.Likelihood);
        Assert.Equal(0.5, spec.Variance);
        Assert.Equal(FisherQuantity.SquaredScore | FisherQuantity.NegativeHessian | FisherQuantity.SquaredScoreVariance | FisherQuantity.Bounds, spec.Quantities);
        Assert.Equal(4, spec.DrawsPerInput);
        Assert.Equal(300, spec.Inputs);
        Assert.Equal(Grouping.PerTensor, spec.Grouping);
        Assert.Equal(ComputeDType.Float64, spec.Precision);
        Assert.Equal(99UL, spec.Seed);
        Assert.Equal(0.2, spec.TargetRelativeError);
        Assert.Equal(0.1, spec.Delta);
        // Re-stating a typed value replaces the legacy text; the same values made now are the same spec (a job started
        // before the upgrade can be resubmitted under its id).
        Assert.Equal(Grouping.All, (spec with { Grouping = Grouping.All }).Grouping);
        var made = new JobSpec
        {
            ModelPath = "/data/model.pt", ArchitecturePath = "/data/model.json", InputsPath = "/data/x.idx", LabelsPath = "/data/y.idx",
            Likelihood = LikelihoodFamily.Gaussian, Variance = 0.5, Quantities = FisherQuantityNames.Parse("i1,i2,v1,bounds"), DrawsPerInput = 4,
            FirstInput = 10, Inputs = 300, Shards = 3, Grouping = Grouping.PerTensor, BatchSize = 64, Seed = 99, Precision = ComputeDType.Float64,
            MaxConcurrentTasks = 2, TargetRelativeError = 0.2, Delta = 0.1,
        };
        Assert.Equal(made, spec);
        Assert.Equal(made.GetHashCode(), spec.GetHashCode());
    }

    [Fact]
    public void A_typed_spec_round_trips_and_defaults_hold()
    {
        var spec = TestData.Spec(inputs: 10, shards: 2, grouping: "all", quantities: "exact,v2", precision: "float32") with { Likelihood = LikelihoodFamily.Poisson };
        var serializer = Serializer();

        var copy = serializer.Deserialize<JobSpec>(serializer.SerializeToArray(spec))!;

        Assert.Equal(spec, copy);
        Assert.Equal(FisherQuantity.Exact | FisherQuantity.NegativeHessianVariance, copy.Quantities);
        Assert.Equal(LikelihoodFamily.Poisson, copy.Likelihood);
        Assert.Equal(spec, serializer.Deserialize<JobSpec>(serializer.SerializeToArray(copy))); // twice over the wire
        var bare = new JobSpec { ModelPath = "m", ArchitecturePath = "a", InputsPath = "x" };
        Assert.Equal(bare with { Quantities = JobSpec.DefaultQuantities, Grouping = Grouping.PerLayer }, bare); // defaults stated or not
        Assert.Equal(JobSpec.DefaultQuantities, bare.Quantities);
        Assert.Equal(Grouping.PerLayer, bare.Grouping);
        Assert.Equal(ComputeDType.Float32, bare.Precision);
        Assert.Null(bare.Likelihood);
    }

    [Fact]
    public void Every_public_value_takes_part_in_equality()
    {
        var spec = TestData.Spec(inputs: 10, shards: 2, grouping: "layer", quantities: "i1", precision: "float32");
        var clone = typeof(JobSpec).GetMethod("<Clone>$")!;
        foreach (var property in typeof(JobSpec).GetProperties().Where(p => p.CanWrite))
        {
            var changed = (JobSpec)clone.Invoke(spec, null)!;
            Assert.Equal(spec, changed);
            object? value = property.GetValue(spec) switch
            {
                string text => text + "x",
                null => property.PropertyType == typeof(string) ? "x" : property.PropertyType == typeof(LikelihoodFamily?) ? LikelihoodFamily.Poisson : 0.25,
                int n => n + 1,
                long n => n + 1,
                ulong n => n + 1,
                double x => x / 2,
                FisherQuantity q => q ^ FisherQuantity.Exact,
                Grouping g => g == Grouping.All ? Grouping.PerLayer : Grouping.All,
                ComputeDType d => d == ComputeDType.Float32 ? ComputeDType.Float64 : ComputeDType.Float32,
                var other => throw new InvalidOperationException($"JobSpec.{property.Name}: no changed value for {other.GetType()}"),
            };
            property.SetValue(changed, value);
            Assert.True(!spec.Equals(changed), $"JobSpec.{property.Name} does not take part in Equals");
        }
    }
}
