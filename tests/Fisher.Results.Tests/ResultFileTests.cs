using System.Text.Json;
using Fisher.Data;
using Fisher.Estimators;

namespace Fisher.Results.Tests;

/// <summary>Each result file written from its typed record and read back gives the same record, field by field.</summary>
public sealed class ResultFileTests
{
    [Fact]
    public void Result_folder_round_trips_summary_and_every_tensor()
    {
        using var folder = new TempFolder();
        var written = Jobs.Assemble(Jobs.Spec("all", 3), Jobs.Estimated(FisherQuantity.Everything, 3));

        ResultFolder.Write(folder.Path, written);
        var read = ResultFolder.Read(folder.Path);

        AssertSameJson(written.Summary, read.Summary);
        var expected = written.Tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToArray();
        var actual = read.Tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToArray();
        Assert.Equal(expected.Select(t => t.Name), actual.Select(t => t.Name));
        foreach (var (a, b) in expected.Zip(actual))
        {
            Assert.Equal(a.Shape, b.Shape);
            Assert.Equal(a.Data, b.Data); // float32 values in memory and in the file
        }
        // A few fields by name, so a field that both sides drop cannot pass unnoticed.
        Assert.Equal("job-test", read.Summary.JobId);
        Assert.Equal(3, read.Summary.DrawsPerInput);
        Assert.Equal(64, read.Summary.Inputs);
        Assert.Equal(FisherQuantity.All, read.Summary.Spec!.Quantities);
        Assert.Equal(3, read.Summary.Groups.Count);
        Assert.Equal(written.Summary.Groups[2].Decision.LabelVarianceI1, read.Summary.Groups[2].Decision.LabelVarianceI1);
        Assert.Equal(written.Summary.Groups[0].Quantities["i1"].InputsNeeded, read.Summary.Groups[0].Quantities["i1"].InputsNeeded);
    }

    [Fact]
    public void Sweep_file_round_trips_every_field()
    {
        using var folder = new TempFolder();
        var sweep = new SweepFile
        {
            Spec = Tests.Jobs.Spec("all", 2) with { FirstInput = 10, Inputs = 500, Seed = ulong.MaxValue, Precision = ComputeDType.Float64 },
            Likelihood = LikelihoodFamily.Categorical,
            Epochs =
            [
                new SweepEpoch
                {
                    Epoch = 3, Checkpoint = "/run/epoch-03.safetensors", JobId = "sweep-x-epoch-03", Results = "/out/epoch-03", Seconds = 1.25,
                    TrainLoss = 0.5, TrainAccuracy = 0.8, TestLoss = null, TestAccuracy = 0.75,
                    Groups =
                    [
                        new SweepGroup
                        {
                            Name = "layer1", Size = 42, Means = new Dictionary<string, double?> { ["i1"] = 1e-3, ["v2"] = 0 },
                            RelativeStandardErrors = new Dictionary<string, double?> { ["i1"] = 0.02, ["i2"] = null }, V2BelowV1Share = 0.4,
                        },
                    ],
                },
            ],
        };
        var path = folder.File(SweepFile.FileName);

        ResultJson.Write(path, sweep);
        var read = ResultJson.ReadSweep(path);

        AssertSameJson(sweep, read);
        Assert.Equal(ulong.MaxValue, read.Spec!.Seed);
        Assert.Equal(ComputeDType.Float64, read.Spec.Precision);
        Assert.Null(read.Epochs[0].TestLoss);
        Assert.Equal(0.0, read.Epochs[0].Groups[0].Means["v2"]);
        Assert.Null(read.Epochs[0].Groups[0].RelativeStandardErrors["i2"]);
    }

    [Theory]
    [InlineData("categorical")]
    [InlineData("gaussian")]
    public void The_committed_paper_study_sweeps_load(string likelihood)
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Fisher.Distributed.sln")))
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("no repository root");

        var sweep = ResultJson.ReadSweep(Path.Combine(root, "docs", "paper-study", likelihood, SweepFile.FileName));

        Assert.Equal(21, sweep.Epochs.Count);
        Assert.Equal(FisherQuantity.All, sweep.Spec!.Quantities & FisherQuantity.All);
        Assert.All(sweep.Epochs, e => Assert.Equal(4, e.Groups.Count));
        Assert.All(sweep.Epochs, e => Assert.Equal(0.0, e.Groups[3].Means["v2"])); // V2 = 0 in the last layer
        Assert.NotNull(sweep.Epochs[^1].TestAccuracy);
    }

    [Fact]
    public void A_summary_written_before_typed_specs_loads_its_spec()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File(SummaryFile.FileName), """
            {"jobId": "old", "spec": {"modelPath": "/m.pt", "architecturePath": "/m.json", "inputsPath": "/x.idx", "labelsPath": null,
             "likelihood": null, "variance": null, "quantities": "i1,i2,exact,v1,v2,bounds,i2_negative", "drawsPerInput": 1, "firstInput": 0,
             "inputs": 0, "shards": 2, "grouping": "layer", "batchSize": 256, "seed": 0, "precision": "float32", "maxConcurrentTasks": 0,
             "targetRelativeError": null, "delta": 0.05}, "groups": []}
            """);

        var spec = ResultJson.ReadSummary(folder.File(SummaryFile.FileName)).Spec!;

        Assert.Equal(Fisher.Contracts.JobSpec.DefaultQuantities, spec.Quantities);
        Assert.Equal(Grouping.PerLayer, spec.Grouping);
        Assert.Equal(ComputeDType.Float32, spec.Precision);
        Assert.Null(spec.Likelihood);
        Assert.Equal("i1,i2,exact,v1,v2,i2_negative,v1_upper,v1_lower,v2_upper,v2_lower", JsonDocument.Parse(ResultJson.SpecLine(spec)).RootElement.GetProperty("quantities").GetString());
    }

    [Theory]
    [InlineData("""{"groups": null}""", "groups")]
    [InlineData("""{"spec": {"modelPath": "m", "architecturePath": "a", "inputsPath": "x", "grouping": "rows"}}""", "unknown grouping 'rows'")]
    [InlineData("""{"groups": [{"name": "g", "size": "big"}]}""", "size")]
    [InlineData("""{"spec": {"modelPath": "m"}}""", "architecturePath")]
    public void A_broken_summary_names_the_file_and_the_field(string content, string field)
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File(SummaryFile.FileName), content);

        var e = Assert.Throws<DataFormatException>(() => ResultJson.ReadSummary(folder.File(SummaryFile.FileName)));

        Assert.StartsWith(folder.File(SummaryFile.FileName) + ": ", e.Message);
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    private static void AssertSameJson<T>(T expected, T actual)
    {
        var options = new JsonSerializerOptions { WriteIndented = true, TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver() };
        Assert.Equal(JsonSerializer.Serialize(expected, options), JsonSerializer.Serialize(actual, options));
    }
}
