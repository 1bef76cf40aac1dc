using System.Text.Json.Nodes;
using System.Security.Cryptography;
using Fisher.Data;
using Fisher.Data.Tests.Onnx;
using Fisher.Estimators;
using TorchSharp;
using static TorchSharp.torch;

namespace Fisher.EndToEnd.Tests;

/// <summary>
/// Issue 14 acceptance 4: the README's CNN command (read from README.md) estimates samples/fashion-cnn's ONNX export on
/// the bundled 2,000 images, its results name the CNN's layers by module, and fisher.safetensors maps onto the model's
/// state_dict (python3-torch); the .pt and .onnx forms of the sample give the same estimates; an ONNX model never takes
/// another model's architecture.
/// </summary>
public sealed class CnnSampleTests : IDisposable
{
    private static readonly string Folder = Path.Combine(TestProcess.RepoRoot, "samples", "fashion-cnn");
    private static readonly string Onnx = Path.Combine(Folder, "model.onnx");
    private static readonly string Head = Path.Combine(Folder, "model.json");
    private static readonly string[] Layers = ["conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "fc"];
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("fisher-e2e-cnn-sample-");

    /// <summary>The arguments after <c>--</c> of the README's one command that estimates <c>samples/fashion-cnn/model.onnx</c>.</summary>
    private static string[] ReadmeCommand()
    {
        var lines = File.ReadAllLines(Path.Combine(TestProcess.RepoRoot, "README.md"))
            .Where(l => l.Contains("--model samples/fashion-cnn/model.onnx", StringComparison.Ordinal)).ToArray();
        Assert.True(lines.Length == 1, $"README.md: expected one command estimating samples/fashion-cnn/model.onnx, found {lines.Length}");
        var command = lines[0].Trim();
        Assert.StartsWith("dotnet run -c Release --project src/Fisher.Client -- estimate ", command, StringComparison.Ordinal);
        return command[(command.IndexOf(" -- ", StringComparison.Ordinal) + 4)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public async Task The_readme_cnn_command_runs_names_the_layers_by_module_and_its_results_load_onto_the_state_dict()
    {
        var output = Path.Combine(_folder.FullName, "out");
        var result = await TestProcess.Fisher([.. ReadmeCommand(), "--no-progress", "--out", output]);
        Assert.True(result.ExitCode == 0, result.Describe());
        foreach (var layer in Layers)
            Assert.True(result.Stdout.Contains($"│ {layer} ", StringComparison.Ordinal), result.Describe());
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "summary.json")))!;
        Assert.Equal(Layers, summary["groups"]!.AsArray().Select(g => (string)g!["name"]!));
        Assert.EndsWith("model.onnx", (string)summary["spec"]!["modelPath"]!, StringComparison.Ordinal);
        // summary.json records what was used: the head's likelihood and scaling, and the graph read from the ONNX file.
        var architecture = summary["architecture"]!;
        Assert.Equal("categorical", (string)architecture["likelihood"]!);
        Assert.Equal(1 / 255.0, (double)architecture["input"]!["scale"]!, 12);
        Assert.Contains(architecture["layers"]!.AsArray(), l => (string)l!["name"]! == "conv3" && (string)l["op"]! == "conv2d");

        var probe = await TestProcess.Run(TestProcess.Python, ["-c", "import torch, numpy"], TestTimeouts.Job);
        Assert.True(probe.ExitCode == 0, $"{Requirements.Missing($"torch or numpy for {TestProcess.Python}", "python3-torch", "python3-numpy")}\n{probe.Describe()}");
        var python = Path.Combine(AppContext.BaseDirectory, "python");
        var check = await TestProcess.Run(TestProcess.Python, [Path.Combine(python, "cnn_sample_check.py"), Path.Combine(output, "fisher.safetensors"), Path.Combine(Folder, "model.pt")],
            TestTimeouts.Job, python);
        Assert.True(check.ExitCode == 0, check.Describe());
        Assert.StartsWith("ok ", check.Stdout.Trim(), StringComparison.Ordinal);
    }

    /// <summary>The sample's network written by hand as the architecture JSON's graph form, for model.pt.</summary>
    private const string GraphJson = """
        {
          "inputShape": [1, 28, 28],
          "layers": [
            { "name": "conv1", "op": "conv2d", "kernel": 3, "padding": 1, "bias": false },
            { "name": "bn1", "op": "batchnorm" },
            { "name": "act1", "op": "activation", "activation": "tanh" },
            { "name": "pool1", "op": "maxpool2d", "kernel": 2, "stride": 2 },
            { "name": "conv2", "op": "conv2d", "kernel": 3, "padding": 1, "bias": false },
            { "name": "bn2", "op": "batchnorm" },
            { "name": "act2", "op": "activation", "activation": "tanh" },
            { "name": "conv3", "op": "conv2d", "kernel": 3, "padding": 1, "bias": false },
            { "name": "bn3", "op": "batchnorm" },
            { "name": "add", "op": "add", "inputs": ["pool1", "bn3"] },
            { "name": "act3", "op": "activation", "activation": "tanh" },
            { "name": "pool2", "op": "avgpool2d", "kernel": 2, "stride": 2, "countIncludePad": false },
            { "name": "flatten", "op": "flatten" },
            { "name": "fc", "op": "linear" }
          ],
          "likelihood": "categorical",
          "input": { "scale": 0.00392156862745098 }
        }
        """;

    [Fact]
    public void The_pt_and_onnx_forms_of_the_sample_give_the_same_estimates_in_float64()
    {
        torch.set_num_threads(1);
        var head = ModelSource.ReadArchitecture(Onnx, Head, likelihood: null);
        var graph = ModelArchitecture.Parse(GraphJson, "fashion-cnn graph");
        Assert.True(head.IsHead);
        Assert.Equal(head.Input, graph.Input);
        var fromOnnx = Estimate(head, Onnx);
        var fromPt = Estimate(graph, Path.Combine(Folder, "model.pt"));
        Assert.Equal(fromPt.Streams.Keys.Select(k => k.ToString()).Order(StringComparer.Ordinal), fromOnnx.Streams.Keys.Select(k => k.ToString()).Order(StringComparer.Ordinal));
        Assert.True(fromPt.Streams.Count >= 6 * 11, $"{fromPt.Streams.Count} streams");
        foreach (var (key, expected) in fromPt.Streams)
        {
            var actual = fromOnnx.Streams[key];
            double scale = Math.Max(expected.Mean.Max(Math.Abs), 1e-300);
            double error = expected.Mean.Zip(actual.Mean, (a, b) => Math.Abs(a - b)).Max() / scale;
            Assert.True(error <= 1e-9, $"{key}: the .onnx and .pt forms differ by {error:G3} of the largest entry");
        }
    }

    private static FisherMoments Estimate(ModelArchitecture architecture, string model)
    {
        const int Rows = 12;
        using var network = LoadedNetwork.Load(architecture, model, ScalarType.Float64);
        using var data = Dataset.Open(Path.Combine(TestProcess.RepoRoot, "samples", "fashion-mnist", "t10k-2000-images-idx3-ubyte.gz"),
            Path.Combine(TestProcess.RepoRoot, "samples", "fashion-mnist", "t10k-2000-labels-idx1-ubyte.gz"));
        var x = new double[Rows * data.Features];
        var y = new double[Rows];
        data.ReadInputs(0, Rows, x);
        data.ReadLabels(0, Rows, y);
        var estimator = network.CreateEstimator(architecture.CreateLikelihood(network.OutputWidth), new EstimatorOptions
        {
            Quantities = FisherQuantity.All | FisherQuantity.V1Upper | FisherQuantity.V2Lower,
            DrawsPerInput = 2,
            Seed = 11,
        });
        using var scope = NewDisposeScope();
        using var accumulator = new FisherAccumulator();
        estimator.Accumulate(accumulator, architecture.Input.Apply(tensor(x, [Rows, data.Features], ScalarType.Float64)), tensor(y, [Rows], ScalarType.Float64), 0);
        return accumulator.ToMoments();
    }

    [Fact]
    public async Task An_onnx_model_without_a_likelihood_is_one_error_line_and_never_takes_the_bundled_architecture()
    {
        var output = Path.Combine(_folder.FullName, "out");
        var result = await TestProcess.Fisher("estimate", "--model", Onnx, "--no-progress", "--out", output);
        Assert.True(result.ExitCode == 2, result.Describe());
        var errors = (result.Stdout + "\n" + result.Stderr).Split('\n').Where(l => l.Contains("error:", StringComparison.Ordinal)).ToArray();
        Assert.True(errors.Length == 1, result.Describe());
        Assert.Contains(Onnx, errors[0], StringComparison.Ordinal);
        Assert.Contains("--likelihood", errors[0], StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));

        // A JSON that describes layers next to an ONNX model is refused, naming the file.
        var mlp = Path.Combine(TestProcess.RepoRoot, "samples", "fashion-mnist", "model.json");
        result = await TestProcess.Fisher("estimate", "--model", Onnx, "--architecture", mlp, "--no-progress", "--out", output);
        Assert.True(result.ExitCode == 2, result.Describe());
        errors = (result.Stdout + "\n" + result.Stderr).Split('\n').Where(l => l.Contains("error:", StringComparison.Ordinal)).ToArray();
        Assert.True(errors.Length == 1, result.Describe());
        Assert.Contains(mlp, errors[0], StringComparison.Ordinal);
        Assert.Contains("the ONNX file model.onnx defines the layers", errors[0], StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
    }

    [Fact]
    public async Task An_onnx_model_with_a_likelihood_override_and_no_architecture_runs_on_unscaled_inputs()
    {
        var output = Path.Combine(_folder.FullName, "out");
        var result = await TestProcess.Fisher("estimate", "--model", Onnx, "--likelihood", "categorical", "--inputs", "8", "--estimators", "i1",
            "--data", Path.Combine(TestProcess.RepoRoot, "samples", "fashion-mnist", "t10k-2000-images-idx3-ubyte.gz"), "--no-progress", "--out", output);
        Assert.True(result.ExitCode == 0, result.Describe());
        var architecture = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "summary.json")))!["architecture"]!;
        Assert.Equal(1.0, (double)architecture["input"]!["scale"]!);
        Assert.Equal("categorical", (string)architecture["likelihood"]!);
    }

    /// <summary>Broken or unsupported ONNX files: one error line naming the file, exit code 2, nothing written or changed.</summary>
    [Theory]
    [InlineData("truncated", "")]
    [InlineData("unsupported", "op Sin")]
    [InlineData("huge", "fc.weight")]
    public async Task A_broken_or_unsupported_onnx_file_is_one_error_line_naming_it_with_exit_code_2(string kind, string detail)
    {
        var model = Path.Combine(_folder.FullName, $"{kind}.onnx");
        byte[] bytes = kind switch
        {
            "truncated" => File.ReadAllBytes(Onnx)[..(int)(new FileInfo(Onnx).Length / 2)],
            "unsupported" => ProtoWriter.Model(nodes: [
                ProtoWriter.Node("/fc/Gemm", "Gemm", ["input", "fc.weight", "fc.bias"], ["z"], ProtoWriter.IntAttribute("transB", 1)),
                ProtoWriter.Node("/act/Sin", "Sin", ["z"], ["logits"])]),
            _ => ProtoWriter.Model(initializers: [
                new ProtoWriter().Varint(1, 1L << 40).Varint(1, 4).Varint(2, 1).Text(8, "fc.weight").Bytes(9, new byte[48]),
                ProtoWriter.Tensor("fc.bias", [3], [0.1f, 0.2f, 0.3f])]),
        };
        File.WriteAllBytes(model, bytes);
        var output = Path.Combine(_folder.FullName, "out");
        var result = await TestProcess.Fisher("estimate", "--model", model, "--likelihood", "categorical",
            "--data", Path.Combine(TestProcess.RepoRoot, "samples", "fashion-mnist", "t10k-2000-images-idx3-ubyte.gz"), "--no-progress", "--out", output);
        Assert.True(result.ExitCode == 2, result.Describe());
        var errors = (result.Stdout + "\n" + result.Stderr).Split('\n').Where(l => l.Contains("error:", StringComparison.Ordinal)).ToArray();
        Assert.True(errors.Length == 1, result.Describe());
        Assert.Contains(model, errors[0], StringComparison.Ordinal);
        Assert.Contains(detail, errors[0], StringComparison.Ordinal);
        Assert.False(Directory.Exists(output));
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(File.ReadAllBytes(model)));
        Assert.Equal([$"{kind}.onnx"], _folder.EnumerateFileSystemInfos().Select(f => f.Name));
    }

    public void Dispose() => _folder.Delete(recursive: true);
}
