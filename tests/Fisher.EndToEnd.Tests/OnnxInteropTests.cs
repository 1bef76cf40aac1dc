using Fisher.Data;
using Fisher.Estimators.Graph;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Fisher.EndToEnd.Tests;

/// <summary>
/// Issue 14 acceptance 2: networks with every layer type the ONNX importer maps (python/onnx_interop.py: a CNN with a
/// residual block, a Conv1d net, a global-pooling net, an MLP) are exported by Debian's python3-torch with torch.onnx.export;
/// OnnxModel.Read + LayerGraph.Build give PyTorch's logits and its per-sample gradients of every logit with respect to
/// every parameter (autograd, one sample at a time), and the parameters carry the state_dict names.
/// </summary>
public sealed class OnnxInteropTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "python", "onnx_interop.py");
    private static readonly string[] Models = ["cnn", "conv1d", "gap", "mlp"];
    private static readonly string[] BatchNormRoles = ["weight", "bias", "running_mean", "running_var"];
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("fisher-e2e-onnx-");

    [Theory]
    [InlineData("float32", 0, 1e-5, 1e-6)]
    [InlineData("float64", 0, 1e-12, 1e-9)]
    [InlineData("float64", 9, 1e-12, 1e-9)]  // Unsqueeze axes as an attribute, BatchNormalization without training_mode
    [InlineData("float64", 17, 1e-12, 1e-9)] // the newest opset torch 1.13 writes
    public async Task Onnx_exports_give_PyTorchs_logits_and_per_sample_gradients(string dtypeName, int opset, double logitTolerance, double gradientTolerance)
    {
        var probe = await TestProcess.Run(TestProcess.Python, ["-c", "import torch, numpy; print(torch.__version__)"], TestTimeouts.Job);
        Assert.True(probe.ExitCode == 0,
            $"{Requirements.Missing($"torch or numpy for {TestProcess.Python}", "python3-torch", "python3-numpy")}\n{probe.Describe()}");
        string dir = _folder.FullName;
        var made = await TestProcess.Run(TestProcess.Python, [Script, "make", dir, dtypeName, opset.ToString(System.Globalization.CultureInfo.InvariantCulture)], TestTimeouts.Job, dir);
        Assert.True(made.ExitCode == 0, made.Describe());

        torch.set_num_threads(1);
        var dtype = dtypeName == "float32" ? ScalarType.Float32 : ScalarType.Float64;
        foreach (var name in Models)
        {
            using var scope = NewDisposeScope();
            using var model = OnnxModel.Read(Path.Combine(dir, $"{name}.onnx"));
            using var graph = LayerGraph.Build(model.Spec, model.Tensors, dtype);

            // The parameters are the state_dict's, by name and shape, in its order.
            var keys = File.ReadAllLines(Path.Combine(dir, $"{name}.keys.txt")).Select(l => l.Split(' ')).ToArray();
            Assert.Equal(keys.Select(k => k[0]), graph.Layout.Parameters.Select(p => p.Name));
            Assert.Equal(keys.Select(k => string.Join(' ', k.Skip(1))), graph.Layout.Parameters.Select(p => string.Join(' ', p.Shape)));

            // An MLP keeps the fused fast path: its layers carry the module names ("0", "2").
            if (name == "mlp")
            {
                using var fast = graph.AsFeedForward();
                Assert.NotNull(fast);
            }

            // BatchNorm's buffers too, including twins torch stored once and named by an Identity (conv1d's default BatchNorm).
            foreach (var bn in model.Spec.Layers.Where(l => l.Op == LayerOp.BatchNorm))
                Assert.Equal(BatchNormRoles.Select(r => $"{bn.Name}.{r}"), BatchNormRoles.Select(r => bn.Tensors![r]));
            Assert.All(model.Spec.Layers.Where(l => l.Tensors is not null).SelectMany(l => l.Tensors!.Values), t => Assert.True(model.Tensors.ContainsKey(t)));

            var (x, batch) = Read(Path.Combine(dir, $"{name}.inputs.npy"), dtype);
            var (expectedLogits, _) = Read(Path.Combine(dir, $"{name}.logits.npy"), dtype);
            var logits = graph.Forward(x);
            double worst = logits.sub(expectedLogits.reshape(logits.shape)).abs().max().to(ScalarType.Float64).item<double>();
            output.WriteLine($"{name} ({dtypeName}, opset {opset}): largest logit difference {worst:G3}");
            Assert.True(worst <= logitTolerance, $"{name} ({dtypeName}, opset {opset}): logits differ from PyTorch's by up to {worst:G3} (tolerance {logitTolerance:G3})");

            if (name == "cnn" && dtype == ScalarType.Float32 && opset == 0)
                CheckExportVariants(dir, x, expectedLogits.reshape(logits.shape));

            int outputs = graph.OutputWidth;
            var streams = eye(outputs, dtype: dtype).unsqueeze(0).expand(batch, outputs, outputs).contiguous();
            var gradients = graph.PerSampleGradients(x, streams);
            var flat = cat([.. graph.Layout.Parameters.Select(p => gradients[p.Name].reshape(batch, outputs, -1))], 2);
            var (expected, _) = Read(Path.Combine(dir, $"{name}.grads.npy"), dtype);
            expected = expected.reshape(flat.shape);
            long offset = 0;
            foreach (var p in graph.Layout.Parameters)
            {
                var a = flat.narrow(2, offset, p.Size);
                var b = expected.narrow(2, offset, p.Size);
                offset += p.Size;
                double scale = Math.Max(b.abs().max().to(ScalarType.Float64).item<double>(), 1e-3);
                double error = a.sub(b).abs().max().to(ScalarType.Float64).item<double>() / scale;
                output.WriteLine($"  {p.Name}: largest gradient difference / largest gradient = {error:G3}");
                Assert.True(error <= gradientTolerance, $"{name} ({dtypeName}, opset {opset}): per-sample gradients of '{p.Name}' differ from PyTorch's by up to {error:G3} of their largest ({scale:G3}); tolerance {gradientTolerance:G3}");
            }
        }
    }

    /// <summary>
    /// The export options matter (src/Fisher.Data/README.md, "ONNX"): torch.onnx.export's defaults fold each BatchNorm
    /// into its convolution, so the model still gives PyTorch's logits but under generated names, not the state_dict's;
    /// TrainingMode.TRAINING exports training-mode BatchNorm, refused in one line naming the node.
    /// </summary>
    private static void CheckExportVariants(string dir, Tensor x, Tensor expectedLogits)
    {
        using (var folded = OnnxModel.Read(Path.Combine(dir, "cnn.eval.onnx")))
        using (var graph = LayerGraph.Build(folded.Spec, folded.Tensors, ScalarType.Float32))
        {
            Assert.DoesNotContain(folded.Spec.Layers, l => l.Name == "features.1"); // BatchNorm2d after a Conv2d: folded
            Assert.Contains(graph.Layout.Parameters, p => p.Name.StartsWith("onnx::", StringComparison.Ordinal));
            double worst = graph.Forward(x).sub(expectedLogits).abs().max().item<float>();
            Assert.True(worst <= 1e-5, $"cnn.eval.onnx: logits differ from PyTorch's by up to {worst:G3}");
        }
        var training = Path.Combine(dir, "cnn.training.onnx");
        var e = Assert.Throws<DataFormatException>(() => OnnxModel.Read(training));
        Assert.StartsWith($"{training}: node '/features/features.1/BatchNormalization' (op BatchNormalization) is not supported (BatchNormalization in training mode", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A whole NPY file as a tensor of its rows (batch, features) in <paramref name="dtype"/>.</summary>
    private static (Tensor Values, long Rows) Read(string path, ScalarType dtype)
    {
        using var data = Dataset.Open(path);
        var values = new double[data.Rows * data.Features];
        data.ReadInputs(0, (int)data.Rows, values);
        return (tensor(values, [data.Rows, data.Features], ScalarType.Float64).to(dtype), data.Rows);
    }

    public void Dispose() => _folder.Delete(recursive: true);
}
