using Xunit;
using static TorchSharp.torch;

namespace Fisher.Data.Tests;

public sealed class ModelLoaderTests
{
    private static double MaxAbsDifference(string weights, string logits, ScalarType dtype)
    {
        Support.EnsureTorch();
        var architecture = ModelArchitecture.Read(Support.Fixture("tiny_arch.json"));
        using var network = ModelLoader.Load(architecture, Support.Fixture(weights), dtype);
        Assert.Equal(dtype, network.DType);
        using var scope = NewDisposeScope();
        var x = tensor(Support.ReadAll(Support.Fixture(dtype == ScalarType.Float64 ? "tiny_input64.npy" : "tiny_input.npy")), [8, 6], ScalarType.Float64);
        var f = network.Forward(x).to(ScalarType.Float64);
        var expected = tensor(Support.ReadAll(Support.Fixture(logits)), [8, 3], ScalarType.Float64);
        return (f - expected).abs().max().item<double>();
    }

    [Theory]
    [InlineData("tiny.pt")]
    [InlineData("tiny.safetensors")]
    public void Float32ModelMatchesPyTorchLogits(string weights)
    {
        Assert.True(MaxAbsDifference(weights, "tiny_logits.npy", ScalarType.Float32) < 1e-6);
    }

    [Fact]
    public void Float64ModelMatchesPyTorchLogitsTo1e12()
    {
        Assert.True(MaxAbsDifference("tiny64.pt", "tiny64_logits.npy", ScalarType.Float64) < 1e-12);
    }

    [Fact]
    public void PtAndSafetensorsHoldTheSameTensors()
    {
        var pt = ModelLoader.ReadStateDict(Support.Fixture("tiny.pt"));
        var st = ModelLoader.ReadStateDict(Support.Fixture("tiny.safetensors"));
        Assert.Equal(["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"], pt.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(pt.Keys.Order(StringComparer.Ordinal), st.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, array) in pt)
        {
            Assert.Equal(name, array.Name);
            Assert.Equal(array.Shape, st[name].Shape);
            Assert.Equal(array.Data, st[name].Data);
        }
        Assert.Equal([5L, 6L], pt["0.weight"].Shape);
    }

    [Fact]
    public void StridedViewsAndStorageOffsetsAreHonoured()
    {
        var plain = ModelLoader.ReadStateDict(Support.Fixture("tiny.pt"));
        var strided = ModelLoader.ReadStateDict(Support.Fixture("tiny_strided.pt"));
        foreach (var (name, array) in plain)
        {
            Assert.Equal(array.Shape, strided[name].Shape);
            Assert.Equal(array.Data, strided[name].Data);
        }
    }

    [Fact]
    public void HalfAndBFloat16BecomeFloat64Exactly()
    {
        var state = ModelLoader.ReadStateDict(Support.Fixture("tiny_half.pt"));
        var expected = Support.ReadAll(Support.Fixture("tiny_half_values.npy"));
        Assert.Equal(expected, state["h"].Data.Concat(state["b"].Data));
        Assert.Equal([7L], state["h"].Shape);
        Assert.Equal([5L], state["b"].Shape);
    }

    [Fact]
    public void LegacyPickleFormatIsNamed()
    {
        using var temp = new TempFolder();
        var path = temp.File("legacy.pt");
        File.WriteAllBytes(path, [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);
        var e = Assert.Throws<DataFormatException>(() => ModelLoader.ReadStateDict(path));
        Assert.Contains("legacy", e.Message);
    }

    [Fact]
    public void FormatIsDetectedFromContentNotExtension()
    {
        using var temp = new TempFolder();
        var disguised = temp.File("weights.safetensors");
        File.Copy(Support.Fixture("tiny.pt"), disguised);
        var swapped = temp.File("weights.pt");
        File.Copy(Support.Fixture("tiny.safetensors"), swapped);
        Assert.Equal(6, ModelLoader.ReadStateDict(disguised).Count);
        Assert.Equal(6, ModelLoader.ReadStateDict(swapped).Count);
    }

    [Fact]
    public void WrongStateDictListsEveryProblemAtOnce()
    {
        var architecture = ModelArchitecture.Read(Support.Fixture("tiny_arch.json"));
        var path = Support.Fixture("tiny_wrong.pt");
        var e = Assert.Throws<ModelMismatchException>(() => ModelLoader.Load(architecture, path));
        Assert.Equal(path, e.Path);
        Assert.Equal(3, e.Problems.Count);
        Assert.Contains("missing 4.bias (architecture expects [3])", e.Problems);
        Assert.Contains("unexpected 4.b [3]", e.Problems);
        Assert.Contains("2.weight: file has [4, 7], architecture expects [4, 5]", e.Problems);
        Assert.StartsWith(path + ": ", e.Message);
        foreach (var p in e.Problems)
            Assert.Contains(p, e.Message);
    }

    [Fact]
    public void IntegerTensorIsRefusedNamingKeyAndDtype()
    {
        var path = Support.Fixture("tiny_int.pt");
        var e = Assert.Throws<DataFormatException>(() => ModelLoader.ReadStateDict(path));
        Assert.Equal(path, e.Path);
        Assert.Contains("1.num_batches_tracked", e.Message);
        Assert.Contains("int64", e.Message);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.99)]
    public void TruncatedPtNamesThePath(double fraction)
    {
        using var temp = new TempFolder();
        var path = temp.File("cut.pt");
        var bytes = File.ReadAllBytes(Support.Fixture("tiny.pt"));
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * fraction)]);
        var e = Assert.Throws<DataFormatException>(() => ModelLoader.ReadStateDict(path));
        Assert.Equal(path, e.Path);
        Assert.StartsWith(path + ": ", e.Message);
    }

    [Fact]
    public void RandomBytesNamePathAndExpectedFormats()
    {
        using var temp = new TempFolder();
        var path = temp.File("noise.bin");
        var bytes = new byte[1000];
        new Random(3).NextBytes(bytes);
        bytes[0] = 0x17;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataFormatException>(() => ModelLoader.ReadStateDict(path));
        Assert.Equal(path, e.Path);
        Assert.Contains("safetensors", e.Message);
        Assert.Contains("zip", e.Message);
    }

    [Fact]
    public void TruncatedSafetensorsNamesThePath()
    {
        using var temp = new TempFolder();
        var path = temp.File("cut.safetensors");
        var bytes = File.ReadAllBytes(Support.Fixture("tiny.safetensors"));
        File.WriteAllBytes(path, bytes[..(bytes.Length - 10)]);
        var e = Assert.Throws<DataFormatException>(() => ModelLoader.ReadStateDict(path));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains("data_offsets", e.Message);
    }

    [Fact]
    public void LoadsIntoFloat64AndKeepsLayerNames()
    {
        Support.EnsureTorch();
        var architecture = ModelArchitecture.Read(Support.Fixture("tiny_arch.json"));
        using var network = ModelLoader.Load(architecture, Support.Fixture("tiny.pt"), ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, network.DType);
        Assert.Equal(["0", "2", "4"], network.Layers.Select(l => l.Name));
        Assert.Equal(6, network.InputWidth);
        Assert.Equal(3, network.OutputWidth);
    }

    [Fact]
    public void RenamedLayersLoadFromSafetensors()
    {
        Support.EnsureTorch();
        using var temp = new TempFolder();
        var state = ModelLoader.ReadStateDict(Support.Fixture("tiny.pt"));
        var path = temp.File("renamed.safetensors");
        Safetensors.Write(path, state.Values.Select(a => a with { Name = "net." + a.Name }), float32: false);
        var architecture = ModelArchitecture.Read(Support.Fixture("tiny_arch.json")) with { LayerNames = ["net.0", "net.2", "net.4"] };
        using var network = ModelLoader.Load(architecture, path);
        Assert.Equal("net.4", network.Layers[2].Name);
    }
}
