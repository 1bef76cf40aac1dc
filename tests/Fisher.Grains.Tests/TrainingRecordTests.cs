using System.Text.Json.Nodes;
using Fisher.Data;
using Fisher.Estimators;
using Fisher.Training;

namespace Fisher.Grains.Tests;

/// <summary><c>training.json</c> through <see cref="TrainingRecord"/>: a lossless round trip, and the committed paper-study file loads.</summary>
public sealed class TrainingRecordTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "fisher-training-record-" + Guid.NewGuid().ToString("N")[..8]);

    public TrainingRecordTests() => Directory.CreateDirectory(_folder);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public void Write_then_read_gives_back_every_field()
    {
        var record = new TrainingRecord
        {
            Architecture = new ModelArchitecture([784, 32, 16, 10], [Activation.Tanh, Activation.LeakyRelu(0.2)], "gaussian", 0.25, ["0", "2", "5"], new InputScaling(1 / 255.0, -0.5)),
            Data = "/data/train-images.gz",
            Labels = "/data/train-labels.gz",
            TestData = "/data/test-images.gz",
            TestLabels = "/data/test-labels.gz",
            TrainRows = 60_000,
            TestRows = 10_000,
            Optimizer = "Adam",
            LearningRate = 3e-4,
            BatchSize = 96,
            Epochs = 2,
            Seed = ulong.MaxValue,
            Loss = "mean over examples of the negative log-likelihood",
            Seconds = 12.345,
            PerEpoch =
            [
                new EpochMetrics(0, "epoch-00.safetensors", 2.3354647612253823, 0.1, 2.3354639183044434, 0.1, 2.558),
                new EpochMetrics(1, "epoch-01.safetensors", 1.0867063894748688, 0.5947666666666667, 0.6336106902122498, 0.7541, 56.677),
                new EpochMetrics(2, "epoch-02.safetensors", 0.25, null, null, null, 0),
            ],
        };
        var path = Path.Combine(_folder, TrainingRecord.FileName);
        record.Write(path);
        var read = TrainingRecord.Read(path);

        foreach (var property in typeof(TrainingRecord).GetProperties())
        {
            if (property.Name == nameof(TrainingRecord.PerEpoch))
                continue;
            Assert.True(Equals(property.GetValue(record), property.GetValue(read)), $"{property.Name}: wrote {property.GetValue(record)}, read {property.GetValue(read)}");
        }
        Assert.Equal(record.PerEpoch.Count, read.PerEpoch.Count);
        for (int i = 0; i < record.PerEpoch.Count; i++)
        {
            foreach (var property in typeof(EpochMetrics).GetProperties())
                Assert.True(Equals(property.GetValue(record.PerEpoch[i]), property.GetValue(read.PerEpoch[i])), $"perEpoch[{i}].{property.Name}");
        }

        // The file keeps the names fisher sweep and older readers use.
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        Assert.Equal(
            ["architecture", "data", "labels", "testData", "testLabels", "trainRows", "testRows", "optimizer", "learningRate", "batchSize", "epochs", "seed", "loss", "seconds", "perEpoch"],
            json.AsObject().Select(p => p.Key));
        Assert.Equal(
            ["epoch", "checkpoint", "trainLoss", "trainAccuracy", "testLoss", "testAccuracy", "seconds"],
            json["perEpoch"]![0]!.AsObject().Select(p => p.Key));
        Assert.Null(json["perEpoch"]![2]!["testLoss"]);
        Assert.Equal(0.25, json["architecture"]!["variance"]!.GetValue<double>());
    }

    [Fact]
    public void The_committed_paper_study_training_json_loads_and_writes_back_the_same_json()
    {
        var path = Path.Combine(TestData.SampleFolder, "..", "..", "docs", "paper-study", "categorical", "training.json");
        var record = TrainingRecord.Read(path);
        Assert.Equal([784, 128, 128, 128, 10], record.Architecture.Widths);
        Assert.Equal("categorical", record.Architecture.Likelihood);
        Assert.Equal(Enumerable.Range(0, record.Epochs + 1), record.PerEpoch.Select(e => e.Epoch));
        Assert.Equal(2.3354647799173991, record.PerEpoch[0].TrainLoss); // docs/paper-study re-run of 2026-12-02
        Assert.Equal(0.7541, record.PerEpoch[1].TestAccuracy);

        var copy = Path.Combine(_folder, TrainingRecord.FileName);
        record.Write(copy);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(File.ReadAllText(path)), JsonNode.Parse(File.ReadAllText(copy))));
    }
}
