using Fisher.Estimators;
using Xunit;
using static TorchSharp.torch;

namespace Fisher.Data.Tests;

/// <summary>
/// The head form of the architecture JSON and how <see cref="ModelSource"/> pairs it with a model: an ONNX model takes
/// the head (or none, with a likelihood override) and never a network description; a state_dict never takes a head.
/// </summary>
public sealed class ModelSourceTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("fisher-model-source-");
    private static string Sample(string name) => Path.Combine(DocumentationTests.RepositoryRoot(), "samples", "fashion-cnn", name);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_folder.FullName, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void TheHeadFormReadsLikelihoodVarianceAndScalingAndRoundTrips()
    {
        var head = ModelArchitecture.Parse("""{"likelihood": "gaussian", "variance": 2.5, "input": {"scale": 0.5, "shift": -1}}""", "head.json");
        Assert.True(head.IsHead);
        Assert.False(head.IsGraph || head.IsFeedForward);
        Assert.Equal(("gaussian", 2.5, new InputScaling(0.5, -1)), (head.Likelihood, head.Variance, head.Input));
        Assert.Equal(head, ModelArchitecture.Parse(head.ToJson(), "again"));
        Assert.DoesNotContain("widths", head.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void AnOnnxModelTakesTheHeadAndLoadsItsGraphWithModuleNamedGroups()
    {
        var architecture = ModelSource.ReadArchitecture(Sample("model.onnx"), Sample("model.json"), likelihood: null);
        Assert.Equal(new InputScaling(1 / 255.0), architecture.Input);
        using var network = LoadedNetwork.Load(architecture, Sample("model.onnx"), ScalarType.Float64);
        Assert.False(network.IsFeedForward);
        Assert.Equal(["conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "fc"], network.Groups(Grouping.PerLayer).Select(g => g.Name));
        Assert.True(network.Architecture.IsGraph); // what summary.json records: the head plus the file's graph
        Assert.Equal("categorical", network.Architecture.Likelihood);
        Assert.Equal(architecture.Input, network.Architecture.Input);
        Assert.Equal(10, network.OutputWidth);
    }

    [Fact]
    public void WithoutAnArchitectureAnOnnxModelTakesTheLikelihoodOverrideAndNoScaling()
    {
        var head = ModelSource.ReadArchitecture(Sample("model.onnx"), null, LikelihoodFamily.Poisson);
        Assert.Equal(("poisson", new InputScaling()), (head.Likelihood, head.Input));
        var e = Assert.Throws<DataFormatException>(() => ModelSource.ReadArchitecture(Sample("model.onnx"), "", likelihood: null));
        Assert.StartsWith($"{Sample("model.onnx")}: an ONNX model needs a likelihood", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<DataFormatException>(() => ModelSource.ReadArchitecture(Sample("model.pt"), null, LikelihoodFamily.Categorical));
        Assert.StartsWith($"{Sample("model.pt")}: no architecture JSON given", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"widths": [784, 10], "likelihood": "categorical"}""", "(widths)")]
    [InlineData("""{"inputShape": [4], "layers": [{"name": "fc", "op": "linear"}], "likelihood": "categorical"}""", "(inputShape, layers)")]
    public void AnArchitectureThatDescribesLayersNextToAnOnnxModelIsOneErrorNamingIt(string json, string what)
    {
        var path = Write("arch.json", json);
        var e = Assert.Throws<DataFormatException>(() => ModelSource.ReadArchitecture(Sample("model.onnx"), path, LikelihoodFamily.Categorical));
        Assert.Equal($"{path}: describes layers {what}, but the ONNX file model.onnx defines the layers; keep only likelihood, variance and input", e.Message);
    }

    [Fact]
    public void AHeadNextToAStateDictIsOneErrorNamingIt()
    {
        var e = Assert.Throws<DataFormatException>(() => ModelSource.ReadArchitecture(Sample("model.pt"), Sample("model.json"), likelihood: null));
        Assert.StartsWith($"{Sample("model.json")}: describes no layers", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    public void Dispose() => _folder.Delete(recursive: true);
}
