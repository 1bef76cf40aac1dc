using System.Text.Json;
using Fisher.Estimators;
using Fisher.Estimators.Graph;
using Xunit;
using static TorchSharp.torch;

namespace Fisher.Data.Tests;

/// <summary>
/// samples/fashion-cnn (made by tools/make-cnn-sample.py) as the project reads it: its model.pt through
/// <see cref="ModelLoader.ReadStateDict(string)"/>, built into a <see cref="LayerGraph"/> of the architecture its README
/// describes, run in float64 on the 2,000 images of samples/fashion-mnist, gives PyTorch's float64 logits, accuracy and
/// mean cross-entropy recorded in reference.json.
/// </summary>
public sealed class FashionCnnSampleTests
{
    private static readonly NetworkSpec Architecture = new([1, 28, 28],
    [
        Conv("conv1", NetworkSpec.InputName),
        new("bn1", LayerOp.BatchNorm, ["conv1"]),
        Tanh("act1", "bn1"),
        new("pool1", LayerOp.MaxPool2d, ["act1"]) { Kernel = [2, 2] },
        Conv("conv2", "pool1"),
        new("bn2", LayerOp.BatchNorm, ["conv2"]),
        Tanh("act2", "bn2"),
        Conv("conv3", "act2"),
        new("bn3", LayerOp.BatchNorm, ["conv3"]),
        new("add", LayerOp.Add, ["pool1", "bn3"]),
        Tanh("act3", "add"),
        new("pool2", LayerOp.AvgPool2d, ["act3"]) { Kernel = [2, 2], CountIncludePad = false },
        new("flatten", LayerOp.Flatten, ["pool2"]),
        new("fc", LayerOp.Linear, ["flatten"]),
    ]);

    [Fact]
    public void TheSampleCnnGivesPyTorchsLogitsAccuracyAndCrossEntropy()
    {
        var root = DocumentationTests.RepositoryRoot();
        var folder = Path.Combine(root, "samples", "fashion-cnn");
        using var reference = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "reference.json")));
        var expected = reference.RootElement.GetProperty("sample").GetProperty("float64");

        var state = ModelLoader.ReadStateDict(Path.Combine(folder, "model.pt"));
        var tensors = state.ToDictionary(kv => kv.Key, kv => tensor(kv.Value.Data, kv.Value.Shape, ScalarType.Float64));
        using var graph = LayerGraph.Build(Architecture, tensors, ScalarType.Float64);
        Assert.Equal(5202L, graph.Layout.Parameters.Sum(p => (long)p.Size));

        var images = Path.Combine(root, "samples", "fashion-mnist", "t10k-2000-images-idx3-ubyte.gz");
        var labels = Path.Combine(root, "samples", "fashion-mnist", "t10k-2000-labels-idx1-ubyte.gz");
        using var data = Dataset.Open(images, labels);
        int n = (int)data.Rows;
        var pixels = new double[n * data.Features];
        var classes = new double[n];
        data.ReadInputs(0, n, pixels);
        data.ReadLabels(0, n, classes);
        using var x = tensor(pixels, [n, 1, 28, 28], ScalarType.Float64).mul(1.0 / 255.0);
        using var y = tensor(classes.Select(c => (long)c).ToArray(), [n]);
        using var logits = graph.Forward(x);

        var first = expected.GetProperty("logitsFirst3").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();
        var ours = logits.narrow(0, 0, 3).reshape(-1).data<double>().ToArray();
        Assert.Equal(first.Length, ours.Length);
        for (int i = 0; i < first.Length; i++)
            Assert.True(Math.Abs(ours[i] - first[i]) <= 1e-9 * Math.Max(1, Math.Abs(first[i])), $"logit {i}: {ours[i]} vs PyTorch {first[i]}");
        double accuracy = logits.argmax(1).eq(y).to(ScalarType.Float64).mean().item<double>();
        double crossEntropy = nn.functional.cross_entropy(logits, y).item<double>();
        Assert.Equal(expected.GetProperty("accuracy").GetDouble(), accuracy, 12);
        Assert.Equal(expected.GetProperty("meanCrossEntropy").GetDouble(), crossEntropy, 9);
        foreach (var t in tensors.Values)
            t.Dispose();
    }

    private static LayerSpec Conv(string name, string input) =>
        new(name, LayerOp.Conv2d, [input]) { Padding = [1, 1], Bias = false };

    private static LayerSpec Tanh(string name, string input) =>
        new(name, LayerOp.Activation, [input]) { Activation = Activation.Tanh };
}
