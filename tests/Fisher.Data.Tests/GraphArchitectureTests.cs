using Fisher.Estimators;
using Fisher.Estimators.Graph;
using Xunit;
using static TorchSharp.torch;

namespace Fisher.Data.Tests;

/// <summary>The architecture's graph form, state dicts loaded onto it by name, and multi-dimensional samples.</summary>
public sealed class GraphArchitectureTests
{
    private static string Cnn => Support.Fixture("small_cnn.json");

    [Fact]
    public void GraphFormReadsWithInputsDefaultingToThePreviousLayerAndRoundTrips()
    {
        var a = ModelArchitecture.Read(Cnn);
        Assert.True(a.IsGraph);
        var layers = a.Graph!.Layers;
        Assert.Equal([1L, 6, 6], a.Graph.InputShape);
        Assert.Equal([NetworkSpec.InputName], layers[0].Inputs);
        Assert.Equal(["conv1"], layers[1].Inputs);
        Assert.Equal(["bn2", "act1"], layers[5].Inputs);
        Assert.Equal(LayerOp.Conv2d, layers[3].Op);
        Assert.False(layers[3].Bias);
        Assert.Equal([1, 1], layers[0].Padding!);
        Assert.Equal(ActivationKind.Silu, layers[6].Activation!.Kind);
        Assert.Equal("categorical", a.Likelihood);
        var again = ModelArchitecture.Parse(a.ToJson(), "again");
        Assert.Equal(a, again);
        Assert.Equal(a.ToJson(), again.ToJson());
        Assert.NotEqual(a, ModelArchitecture.Parse(a.ToJson().Replace("\"silu\"", "\"tanh\"", StringComparison.Ordinal), "changed"));
    }

    [Theory]
    [InlineData("small_cnn.pt")]
    [InlineData("small_cnn.safetensors")] // num_batches_tracked as I64: skipped, never read
    public void StateDictLoadsOntoTheGraphByNameAndMatchesPyTorch(string weights)
    {
        Support.EnsureTorch();
        var a = ModelArchitecture.Read(Cnn);
        using var network = LoadedNetwork.Load(a, Support.Fixture(weights), ScalarType.Float64);
        Assert.False(network.IsFeedForward);
        Assert.Equal(36, network.InputSize);
        Assert.Equal(3, network.OutputWidth);
        Assert.Equal(["conv1", "bn1", "conv2", "bn2", "fc"], network.Groups(Grouping.PerLayer).Select(g => g.Name));
        Assert.Contains("conv2.weight", network.Groups(Grouping.PerTensor).Select(g => g.Name));
        Assert.DoesNotContain("conv2.bias", network.Layout.Parameters.Select(p => p.Name));
        using var scope = NewDisposeScope();
        var x = tensor(Support.ReadAll(Support.Fixture("small_cnn_input.npy")), [5, 36], ScalarType.Float64);
        var expected = tensor(Support.ReadAll(Support.Fixture("small_cnn_logits.npy")), [5, 3], ScalarType.Float64);
        var f = network.Graph!.Forward(x);
        Assert.True((f - expected).abs().max().item<double>() < 1e-12);
    }

    [Fact]
    public void AGraphThatIsAnMlpTakesTheFusedPathWithLayerGroupNames()
    {
        Support.EnsureTorch();
        using var folder = new TempFolder();
        var json = folder.File("mlp.json");
        File.WriteAllText(json, """
            {"inputShape": [6], "layers": [
              {"name": "0", "op": "linear"}, {"name": "1", "op": "activation", "activation": "tanh"},
              {"name": "2", "op": "linear"}, {"name": "3", "op": "activation", "activation": "relu"},
              {"name": "4", "op": "linear"}], "likelihood": "categorical"}
            """);
        using var network = LoadedNetwork.Load(ModelArchitecture.Read(json), Support.Fixture("tiny.pt"), ScalarType.Float32);
        Assert.True(network.IsFeedForward);
        Assert.Null(network.Graph);
        Assert.Equal(["layer1", "layer2", "layer3"], network.Groups(Grouping.PerLayer).Select(g => g.Name));
        using var mlp = ModelLoader.Load(ModelArchitecture.Read(Support.Fixture("tiny_arch.json")), Support.Fixture("tiny.pt"));
        Assert.Equal(mlp.Layout.Parameters.Select(p => p.Name), network.Layout.Parameters.Select(p => p.Name));
    }

    [Theory]
    [InlineData("""{"inputShape": [1, 6, 6], "layers": [{"name": "c", "op": "conv2d", "strides": 1}], "likelihood": "gaussian"}""", "layers[0].strides: unknown field for a conv2d layer")]
    [InlineData("""{"inputShape": [1, 6, 6], "layers": [{"name": "c", "op": "conv3d"}], "likelihood": "gaussian"}""", "layers[0].op: unknown op")]
    [InlineData("""{"inputShape": [1, 6, 6], "layers": [{"name": "c", "op": "conv2d", "stride": "2"}], "likelihood": "gaussian"}""", "layers[0].stride: expected an integer or an array of 2")]
    [InlineData("""{"inputShape": [1, 6, 6], "layers": [{"name": "c", "op": "conv2d", "padding": [1, -1]}], "likelihood": "gaussian"}""", "layers[0].padding[1]: expected an integer from 0")]
    [InlineData("""{"inputShape": [1, 6, 6], "layers": [{"name": "c", "op": "conv2d", "groups": 0}], "likelihood": "gaussian"}""", "layers[0].groups: expected an integer from 1")]
    [InlineData("""{"inputShape": [1, 6, 6], "layers": [{"name": "c", "op": "conv2d", "bias": 1}], "likelihood": "gaussian"}""", "layers[0].bias: expected true or false")]
    [InlineData("""{"inputShape": [1, 6, 6], "layers": [{"op": "conv2d"}], "likelihood": "gaussian"}""", "layers[0].name: missing")]
    [InlineData("""{"inputShape": [1, 0, 6], "layers": [{"name": "c", "op": "flatten"}], "likelihood": "gaussian"}""", "inputShape[1]: expected a positive integer")]
    [InlineData("""{"inputShape": [1, 6, 6, 2], "layers": [{"name": "c", "op": "flatten"}], "likelihood": "gaussian"}""", "inputShape: expected 1 to 3 positive integers")]
    [InlineData("""{"inputShape": [36], "layers": [{"name": "a", "op": "linear", "inputs": ["b"]}, {"name": "b", "op": "linear"}], "likelihood": "gaussian"}""", "layers: layer 'a': reads 'b'")]
    [InlineData("""{"inputShape": [36], "layers": [{"name": "a", "op": "activation"}], "likelihood": "gaussian"}""", "layers[0].activation: missing")]
    [InlineData("""{"inputShape": [36], "layers": [{"name": "a", "op": "activation", "activation": "mish"}], "likelihood": "gaussian"}""", "layers[0].activation: unknown activation")]
    [InlineData("""{"inputShape": [36], "widths": [36, 2], "layers": [{"name": "a", "op": "linear"}], "likelihood": "gaussian"}""", "widths: a field of the feed-forward form")]
    [InlineData("""{"inputShape": [36], "layers": [{"name": "a", "op": "linear"}], "likelihood": "laplace"}""", "likelihood: unknown likelihood")]
    [InlineData("""{"inputShape": [36], "layers": {"name": "a"}, "likelihood": "gaussian"}""", "layers: expected an array")]
    [InlineData("""{"layers": [{"name": "a", "op": "linear"}], "likelihood": "gaussian"}""", "inputShape: missing")]
    [InlineData("""{"inputShape": [36], "layers": [{"name": "a", "op": "batchnorm", "epsilon": 0}], "likelihood": "gaussian"}""", "layers[0].epsilon: expected a number > 0")]
    public void GraphFormErrorsAreOneLineNamingFileAndField(string json, string expected)
    {
        var e = Assert.Throws<DataFormatException>(() => ModelArchitecture.Parse(json, "arch.json"));
        Assert.StartsWith("arch.json: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("drop", "conv1.bias", "missing conv1.bias")]
    [InlineData("add", "extra.weight", "unexpected extra.weight [2]")]
    [InlineData("reshape", "fc.weight", "tensor 'fc.weight': expected shape [out, 4], got [4, 3]")]
    [InlineData("reshape", "bn2.running_var", "tensor 'bn2.running_var': expected shape [4], got [2, 2]")]
    public void WeightsThatDoNotFitTheGraphAreOneLineErrorsNamingTheTensor(string change, string name, string expected)
    {
        Support.EnsureTorch();
        using var folder = new TempFolder();
        // safetensors holds floating-point tensors only: the int64 num_batches_tracked is left out (never read).
        var state = ModelLoader.ReadStateDict(Support.Fixture("small_cnn.pt"), null, k => k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)).Values.ToList();
        if (change == "drop")
            state.RemoveAll(t => t.Name == name);
        else if (change == "add")
            state.Add(new NamedArray(name, [2], [1, 2]));
        else
        {
            int i = state.FindIndex(t => t.Name == name);
            state[i] = state[i] with { Shape = state[i].Shape.Length == 2 ? [state[i].Shape[1], state[i].Shape[0]] : [2, 2] };
        }
        var path = folder.File("w.safetensors");
        Safetensors.Write(path, state);
        var e = Assert.ThrowsAny<DataFormatException>(() => ModelLoader.LoadGraph(ModelArchitecture.Read(Cnn), path));
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("(4, 1, 6, 6)", null)]
    [InlineData("(4, 6, 6)", null)]
    [InlineData("(4, 36)", null)]
    [InlineData("(4, 2, 3, 6)", "samples of shape (2, 3, 6) (36 values) do not fit the network's input shape (1, 6, 6) (36 values)")]
    [InlineData("(4, 6, 3, 2)", "samples of shape (6, 3, 2) (36 values) do not fit")]
    [InlineData("(4, 1, 5, 6)", "samples of shape (1, 5, 6) (30 values) do not fit the network's input shape (1, 6, 6) (36 values)")]
    public void SamplesWithChannelsAndSpaceMustFitTheGraphInputShape(string shape, string? error)
    {
        using var folder = new TempFolder();
        var path = folder.File("x.npy");
        long values = shape.Trim('(', ')').Split(", ").Select(long.Parse).Aggregate(1L, (a, b) => a * b);
        DatasetTests.WriteNpy(path, 1, $"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}", new byte[values * 8]);
        using var data = Dataset.Open(path);
        if (error is null)
        {
            data.CheckSampleShape([1, 6, 6]);
            Assert.Equal(36, data.Features);
            return;
        }
        var e = Assert.Throws<DataFormatException>(() => data.CheckSampleShape([1, 6, 6]));
        Assert.StartsWith(path + ": shape: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(error, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void IdxImagesFitAOneChannelGraphAndAnyShapeFitsAnMlpOfTheirSize()
    {
        using var data = Dataset.Open(Support.Fixture("images.idx3-ubyte"));
        var (h, w) = (data.SampleShape[0], data.SampleShape[1]);
        data.CheckSampleShape([1, h, w]);
        data.CheckSampleShape([h * w]);
        Assert.Throws<DataFormatException>(() => data.CheckSampleShape([1, w * h / 2, 2]));
    }
}
