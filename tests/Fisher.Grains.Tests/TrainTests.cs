using Fisher.Estimators;
using System.Text.Json.Nodes;
using Fisher.Client;
using Fisher.Results;
using Fisher.Data;
using Fisher.Training;

namespace Fisher.Grains.Tests;

/// <summary>
/// <c>fisher train</c> and <c>fisher sweep</c> on the bundled Fashion-MNIST sample: checkpoints per epoch that the
/// model loader reads, a decreasing loss, byte-identical checkpoints for the same seed, and a sweep over them on an
/// embedded silo (one result folder per epoch, sweep.json, the three PNGs).
/// </summary>
[Collection("clusters")]
public sealed class TrainTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "fisher-train-tests-" + Guid.NewGuid().ToString("N")[..8]);

    public TrainTests() => Directory.CreateDirectory(_folder);

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

    private string Architecture(string likelihood)
    {
        var path = Path.Combine(_folder, $"tiny-{likelihood}.json");
        File.WriteAllText(path, $$"""
            { "widths": [784, 16, 8, 10], "activation": "sigmoid", "likelihood": "{{likelihood}}", "variance": 1.0,
              "input": { "scale": 0.00392156862745098, "shift": 0.0 } }
            """);
        return path;
    }

    private IReadOnlyList<EpochMetrics> Train(string likelihood, string outName, ulong seed = 7) =>
        Trainer.Run(new TrainOptions
        {
            ArchitecturePath = Architecture(likelihood),
            DataPath = TestData.Images,
            LabelsPath = TestData.Labels,
            TestDataPath = TestData.Images,
            TestLabelsPath = TestData.Labels,
            OutFolder = Path.Combine(_folder, outName),
            Rows = 1024,
            Epochs = 2,
            BatchSize = 64,
            LearningRate = 1e-2,
            Seed = seed,
        }, TextWriter.Null).PerEpoch;

    [Fact]
    public void Train_writes_loadable_checkpoints_per_epoch_with_decreasing_loss_and_is_reproducible()
    {
        var metrics = Train("categorical", "a");
        var folder = Path.Combine(_folder, "a");
        Assert.Equal([0, 1, 2], metrics.Select(m => m.Epoch));
        var architecture = ModelArchitecture.Read(Path.Combine(folder, "model.json"));
        Assert.Equal([784, 16, 8, 10], architecture.Widths);
        foreach (var epoch in new[] { 0, 1, 2 })
        {
            var path = Path.Combine(folder, Trainer.CheckpointName(epoch));
            Assert.True(File.Exists(path), path);
            var state = ModelLoader.ReadStateDict(path);
            Assert.Equal(["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"], state.Keys.Order(StringComparer.Ordinal));
            using var network = ModelLoader.Load(architecture, path);
        }
        Assert.False(File.Exists(Path.Combine(folder, Trainer.CheckpointName(3))));

        // nn.Linear's default initialisation: every initial weight and bias within ±1/sqrt(fan_in).
        var initial = ModelLoader.ReadStateDict(Path.Combine(folder, Trainer.CheckpointName(0)));
        Assert.All(initial["0.weight"].Data, w => Assert.InRange(Math.Abs(w), 0, 1 / Math.Sqrt(784)));
        Assert.All(initial["2.bias"].Data, b => Assert.InRange(Math.Abs(b), 0, 1 / Math.Sqrt(16)));

        Assert.True(metrics[1].TrainLoss < metrics[0].TrainLoss, $"epoch 1 loss {metrics[1].TrainLoss} vs initial {metrics[0].TrainLoss}");
        Assert.True(metrics[2].TrainLoss < metrics[1].TrainLoss, $"epoch 2 loss {metrics[2].TrainLoss} vs epoch 1 {metrics[1].TrainLoss}");
        Assert.True(metrics[2].TestLoss < metrics[0].TestLoss);
        Assert.True(metrics[2].TestAccuracy > 0.3, $"test accuracy {metrics[2].TestAccuracy}");

        var training = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "training.json")))!;
        Assert.Equal(3, training["perEpoch"]!.AsArray().Count);
        Assert.Equal(metrics, TrainingRecord.Read(Path.Combine(folder, "training.json")).PerEpoch);

        // Same seed: byte-identical checkpoints; another seed: other weights.
        Train("categorical", "b");
        Train("categorical", "c", seed: 8);
        foreach (var epoch in new[] { 0, 1, 2 })
        {
            var name = Trainer.CheckpointName(epoch);
            Assert.Equal(File.ReadAllBytes(Path.Combine(folder, name)), File.ReadAllBytes(Path.Combine(_folder, "b", name)));
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(folder, name)), File.ReadAllBytes(Path.Combine(_folder, "c", name)));
        }
    }

    [Fact]
    public void Train_gaussian_on_one_hot_targets_decreases_the_squared_error()
    {
        var metrics = Train("gaussian", "g");
        // Initial outputs are near 0 and targets one-hot: −log p(y | f) = ½‖y − f‖² + (10/2) ln 2π, and ½‖y − f‖² starts near ½.
        Assert.InRange(metrics[0].TrainLoss!.Value - 5 * Math.Log(2 * Math.PI), 0.3, 1.5);
        Assert.True(metrics[2].TrainLoss < metrics[0].TrainLoss, $"epoch 2 loss {metrics[2].TrainLoss} vs initial {metrics[0].TrainLoss}");
        Assert.NotNull(metrics[2].TrainAccuracy);
    }

    [Fact]
    public void Trainable_parameters_outlive_the_callers_dispose_scope_get_gradients_and_leave_the_network_unchanged()
    {
        using var network = ModelLoader.Load(ModelArchitecture.Read(TestData.Architecture), TestData.Model);
        TorchSharp.Modules.Parameter[] parameters;
        using (TorchSharp.torch.NewDisposeScope())
            parameters = network.TrainableParameters();
        try
        {
            Assert.Equal(network.Layout.Parameters.Select(p => p.Shape), parameters.Select(p => p.shape));
            Assert.All(parameters, p => Assert.True(p.requires_grad));
            Assert.False(network.Layers[0].Weight.requires_grad);
            var before = network.Layers[0].Weight.data<float>().ToArray();
            using (TorchSharp.torch.NewDisposeScope())
            {
                var x = TorchSharp.torch.rand(5, network.InputWidth);
                Assert.Equal(network.Forward(x).data<float>().ToArray(), network.Forward(x, parameters).detach().data<float>().ToArray());
                network.Forward(x, parameters).sum().backward();
                Assert.All(parameters, p => Assert.NotNull(p.grad));
                using var noGrad = TorchSharp.torch.no_grad();
                parameters[0].add_(parameters[0].grad!);
            }
            Assert.Equal(before, network.Layers[0].Weight.data<float>().ToArray());
        }
        finally
        {
            foreach (var p in parameters)
                p.Dispose();
        }
    }

    [Fact]
    public void Train_rejects_a_dataset_that_does_not_fit_the_architecture()
    {
        var path = Path.Combine(_folder, "wide.json");
        File.WriteAllText(path, """{ "widths": [100, 10], "likelihood": "categorical" }""");
        var e = Assert.Throws<ArgumentException>(() => Trainer.Run(new TrainOptions
        {
            ArchitecturePath = path,
            DataPath = TestData.Images,
            LabelsPath = TestData.Labels,
            OutFolder = Path.Combine(_folder, "x"),
            Epochs = 1,
        }, TextWriter.Null));
        Assert.Contains("784", e.Message);
    }

    [Fact]
    public void Train_rejects_class_labels_beyond_the_one_hot_outputs_naming_the_labels_file()
    {
        var path = Path.Combine(_folder, "three.json");
        File.WriteAllText(path, """{ "widths": [784, 3], "likelihood": "gaussian" }""");
        var e = Assert.Throws<ArgumentException>(() => Trainer.Run(new TrainOptions
        {
            ArchitecturePath = path,
            DataPath = TestData.Images,
            LabelsPath = TestData.Labels,
            OutFolder = Path.Combine(_folder, "y"),
            Epochs = 1,
        }, TextWriter.Null));
        Assert.StartsWith(TestData.Labels + ": labels: class label 9 is out of range for one-hot targets; expected 0..2", e.Message);
    }

    [Fact]
    public async Task Sweep_over_three_checkpoints_writes_result_folders_sweep_json_and_plots()
    {
        Train("categorical", "s");
        var checkpoints = Sweep.ResolveCheckpoints([Path.Combine(_folder, "s")]);
        Assert.Equal([0, 1, 2], checkpoints.Select(c => c.Epoch));
        var output = Path.Combine(_folder, "sweep");
        await using var connection = await ClusterConnection.StartEmbedded(verbose: false, metricsPort: null, CancellationToken.None);
        var epochs = await Sweep.Run(connection.Client, new SweepOptions
        {
            Checkpoints = checkpoints,
            Spec = new Fisher.Contracts.JobSpec
            {
                ModelPath = checkpoints[0].Path,
                ArchitecturePath = Path.Combine(_folder, "s", "model.json"),
                InputsPath = TestData.Images,
                LabelsPath = TestData.Labels,
                Quantities = FisherQuantity.All,
                Inputs = 200,
                Shards = 2,
                BatchSize = 64,
                Seed = 3,
            },
            OutFolder = output,
            Progress = false,
        }, TextWriter.Null);

        Assert.Equal(3, epochs.Count);
        foreach (var epoch in new[] { 0, 1, 2 })
        {
            var folder = Path.Combine(output, Sweep.EpochFolder(epoch));
            Assert.True(File.Exists(Path.Combine(folder, "fisher.safetensors")), folder);
            Assert.True(File.Exists(Path.Combine(folder, "summary.json")), folder);
        }

        var sweep = ResultJson.ReadSweep(Path.Combine(output, SweepFile.FileName));
        Assert.Equal([0, 1, 2], sweep.Epochs.Select(e => e.Epoch));
        foreach (var e in sweep.Epochs)
        {
            Assert.NotNull(e.TestAccuracy); // from training.json next to the checkpoints
            Assert.Equal(["layer1", "layer2", "layer3"], e.Groups.Select(g => g.Name));
            foreach (var g in e.Groups)
            {
                foreach (var estimate in QuantityCatalog.Estimates)
                {
                    Assert.True(g.Means.GetValueOrDefault(estimate.Key) is { } mean && double.IsFinite(mean), $"{g.Name}: {estimate.Key} missing");
                    Assert.True(g.RelativeStandardErrors.GetValueOrDefault(estimate.Key) > 0, $"{g.Name}: {estimate.Key} relative standard error missing");
                }
                Assert.NotNull(g.V2BelowV1Share);
                Assert.True(g.Means[QuantityCatalog.Exact.Key] > 0);
            }
            // Last layer: Î2 has no label variance (the network output is affine in its parameters).
            Assert.Equal(0, e.Groups[2].Means["v2"]);
            Assert.True(e.Groups[2].Means["v1"] > 0);
        }

        foreach (var name in new[] { "sweep-estimates.png", "sweep-variances.png", "sweep-rse.png" })
        {
            var path = Path.Combine(output, "plots", name);
            Assert.True(File.Exists(path), path);
            var bytes = File.ReadAllBytes(path);
            Assert.True(bytes.Length > 5_000, $"{name}: {bytes.Length} bytes");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        }
    }

    [Fact]
    public void Sweep_resolves_a_list_of_checkpoints_in_the_given_order_and_rejects_missing_files()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "list"));
        var a = Path.Combine(_folder, "list", "epoch-03.safetensors");
        var b = Path.Combine(_folder, "list", "epoch-10.safetensors");
        File.WriteAllText(a, "");
        File.WriteAllText(b, "");
        Assert.Equal([3, 10], Sweep.ResolveCheckpoints([Path.Combine(_folder, "list")]).Select(c => c.Epoch));
        Assert.Equal([10, 3], Sweep.ResolveCheckpoints([b, a]).Select(c => c.Epoch));
        Assert.Throws<ArgumentException>(() => Sweep.ResolveCheckpoints([Path.Combine(_folder, "nothing")]));
        Assert.Throws<ArgumentException>(() => Sweep.ResolveCheckpoints([a, a]));
    }
}
