using System.Text;
using Xunit;

namespace Fisher.Data.Tests;

/// <summary>
/// Reader errors name the file and what was expected, never the file's content: a file holding a recognisable secret
/// (as text, as an NPY header value, as JSON values, as a safetensors dtype) given to every reader yields a one-line
/// message without the secret or the hex of its first bytes.
/// </summary>
public sealed class NoEchoTests : IDisposable
{
    private const string Secret = "SECRET-9c4e2a";
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Text(string name, string content)
    {
        var path = _temp.File(name);
        File.WriteAllText(path, content);
        return path;
    }

    private static void NoEcho(string path, Action read)
    {
        var e = Assert.ThrowsAny<Exception>(read);
        Assert.True(e is DataFormatException or IOException, e.GetType().Name + ": " + e.Message);
        Assert.StartsWith(path, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        var head = File.ReadAllBytes(path).AsSpan(0, 8).ToArray();
        Assert.DoesNotContain(Convert.ToHexString(head[..4]), e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_password_file_as_weights_data_or_architecture_is_not_echoed()
    {
        var passwd = Text("passwd", $"root:x:0:0:{Secret}:/root:/bin/bash\n");
        NoEcho(passwd, () => ModelLoader.ReadStateDict(passwd));
        NoEcho(passwd, () => Dataset.Open(passwd).Dispose());
        NoEcho(passwd, () => ModelArchitecture.Read(passwd));
        NoEcho(passwd, () => Safetensors.Read(passwd));
        NoEcho(passwd, () => OnnxModel.Read(passwd).Dispose());
    }

    [Fact]
    public void Values_inside_a_well_formed_header_are_not_echoed()
    {
        var npy = _temp.File("descr.npy");
        DatasetTests.WriteNpy(npy, 1, $"{{'descr': '{Secret}', 'fortran_order': False, 'shape': (2,), }}", new byte[16]);
        NoEcho(npy, () => Dataset.Open(npy).Dispose());
        var shape = _temp.File("shape.npy");
        DatasetTests.WriteNpy(shape, 1, $"{{'descr': '<f8', 'fortran_order': False, 'shape': ({Secret},), }}", new byte[16]);
        NoEcho(shape, () => Dataset.Open(shape).Dispose());
        var noShape = _temp.File("noshape.npy");
        DatasetTests.WriteNpy(noShape, 1, $"{{'descr': '<f8', 'fortran_order': False, '{Secret}': 1 }}", new byte[16]);
        NoEcho(noShape, () => Dataset.Open(noShape).Dispose());
    }

    [Theory]
    [InlineData($$"""{"widths": "{{Secret}}", "likelihood": "categorical"}""")]
    [InlineData($$"""{"widths": [2, "{{Secret}}", 3], "activation": "tanh", "likelihood": "categorical"}""")]
    [InlineData($$"""{"widths": [2, 3], "likelihood": "{{Secret}}"}""")]
    [InlineData($$"""{"widths": [2, 4, 3], "activation": "{{Secret}}", "likelihood": "categorical"}""")]
    [InlineData($$"""{"widths": [2, 4, 3], "activation": "leaky_relu:{{Secret}}", "likelihood": "categorical"}""")]
    [InlineData($$"""{"widths": [2, 4, 3], "activations": ["{{Secret}}"], "likelihood": "categorical"}""")]
    [InlineData($$$"""{"widths": [2, 3], "likelihood": "categorical", "input": {"scale": "{{{Secret}}}"}}""")]
    [InlineData($$"""{{Secret}}""")]
    [InlineData($$"""{"widths": [2, 3], {{Secret}}""")]
    public void Architecture_values_are_not_echoed(string json)
    {
        var path = Text("architecture.json", json);
        NoEcho(path, () => ModelArchitecture.Read(path));
    }

    [Theory]
    [InlineData($$$"""{"w": {"dtype": "{{{Secret}}}", "shape": [2], "data_offsets": [0, 8]}}""")]
    [InlineData($$$"""{"w": {"dtype": "F32", "shape": ["{{{Secret}}}"], "data_offsets": [0, 8]}}""")]
    [InlineData($$"""{"w": {{Secret}}""")]
    public void Safetensors_values_are_not_echoed(string header)
    {
        var bytes = Encoding.UTF8.GetBytes(header);
        var path = _temp.File("w.safetensors");
        using (var file = File.Create(path))
        {
            file.Write(BitConverter.GetBytes((long)bytes.Length));
            file.Write(bytes);
            file.Write(new byte[8]);
        }
        NoEcho(path, () => Safetensors.Read(path));
    }
}
