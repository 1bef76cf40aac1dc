using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Xunit;

namespace Fisher.Data.Tests;

public sealed class SafetensorsTests
{
    private static NamedArray[] Sample() =>
    [
        new("b.weight", [2, 3], [1.0 / 3, -2.5e-300, Math.PI, double.Epsilon, -0.0, 1e300]),
        new("a.bias", [3], [0.1, 0.2, 0.3]),
        new("scalar", [], [42.0]),
        new("empty", [0, 4], []),
    ];

    private static NamedArray[] Finite() =>
    [
        new("layer.weight", [3, 4], Enumerable.Range(0, 12).Select(i => Math.Sin(i + 0.5) * 1.7).ToArray()),
        new("layer.bias", [3], [0.1, -0.2, 0.3]),
        new("scalar", [], [42.25]),
        new("empty", [0, 4], []),
    ];

    [Fact]
    public void Float64RoundTripIsExactWithMetadata()
    {
        using var temp = new TempFolder();
        var path = temp.File("x.safetensors");
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode ok" };
        Safetensors.Write(path, Sample(), metadata, float32: false);
        var (tensors, meta) = Safetensors.Read(path);
        Assert.Equal(metadata, meta);
        Assert.Equal(4, tensors.Count);
        foreach (var a in Sample())
        {
            Assert.Equal(a.Shape, tensors[a.Name].Shape);
            Assert.Equal(a.Data.Select(BitConverter.DoubleToInt64Bits), tensors[a.Name].Data.Select(BitConverter.DoubleToInt64Bits));
        }
    }

    [Fact]
    public void Float32IsTheDefaultAndRoundsToSingle()
    {
        using var temp = new TempFolder();
        var path = temp.File("x.safetensors");
        Safetensors.Write(path, Sample());
        var (tensors, meta) = Safetensors.Read(path);
        Assert.Empty(meta);
        Assert.Equal(Sample()[0].Data.Select(v => (double)(float)v), tensors["b.weight"].Data);
        Assert.Contains("\"F32\"", Header(path));
    }

    [Fact]
    public void HeaderIsPaddedSortedAndDataFollows()
    {
        using var temp = new TempFolder();
        var path = temp.File("x.safetensors");
        Safetensors.Write(path, Sample(), float32: false);
        var bytes = File.ReadAllBytes(path);
        var n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, n % 8);
        var header = Header(path);
        Assert.True(header.IndexOf("\"a.bias\"", StringComparison.Ordinal) < header.IndexOf("\"b.weight\"", StringComparison.Ordinal));
        Assert.True(header.IndexOf("\"b.weight\"", StringComparison.Ordinal) < header.IndexOf("\"empty\"", StringComparison.Ordinal));
        Assert.Equal(8 + (long)n + 8 * (3 + 6 + 1), bytes.Length);
    }

    [Fact]
    public void AFailedWriteLeavesTheOldFileAndNoTemporary()
    {
        using var temp = new TempFolder();
        var path = temp.File("x.safetensors");
        File.WriteAllText(path, "old");
        Assert.Throws<ArgumentException>(() => Safetensors.Write(path, [new NamedArray("bad", [2, 2], [1, 2, 3])]));
        Assert.Throws<ArgumentException>(() => Safetensors.Write(path, [new NamedArray("x", [1], [1]), new NamedArray("x", [1], [2])]));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(temp.Path));

        // The target is a folder: the rename fails after the data was written; the temporary file is removed.
        var folder = temp.File("taken");
        Directory.CreateDirectory(folder);
        Assert.ThrowsAny<IOException>(() => Safetensors.Write(folder, Sample()));
        Assert.Single(Directory.GetFiles(temp.Path));
    }

    private static string Header(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var n = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        return Encoding.UTF8.GetString(bytes, 8, n);
    }

    private static string Raw(TempFolder temp, string header, int dataBytes, long? declaredLength = null)
    {
        var path = temp.File("raw.safetensors");
        var h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)(declaredLength ?? h.Length));
        h.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData("""{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 12]}}""", 8, "w: data_offsets", "out of range")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}""", 8, "w: data_offsets", "needs 12")]
    [InlineData("""{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}""", 12, "b: data_offsets", "overlaps a")]
    [InlineData("""{"w": {"dtype": "Q7", "shape": [2], "data_offsets": [0, 8]}}""", 8, "w: unknown dtype", "F64")]
    [InlineData("""{"w": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}""", 8, "w: dtype I64", "not a floating-point")]
    [InlineData("""{"w": {"dtype": "F32", "shape": [2]}}""", 8, "w: data_offsets", "missing")]
    [InlineData("""{"w": [1, 2]}""", 8, "w: expected an object", "")]
    [InlineData("""{"__metadata__": {"x": 1}}""", 0, "__metadata__.x", "expected a string")]
    [InlineData("""{"w": {"dtype": "F32",""", 0, "header (offset 8): not valid JSON", "")]
    public void StrictValidationNamesTheKey(string header, int dataBytes, string start, string expectation)
    {
        using var temp = new TempFolder();
        var path = Raw(temp, header, dataBytes);
        var e = Assert.Throws<DataFormatException>(() => Safetensors.Read(path));
        Assert.Equal(path, e.Path);
        Assert.StartsWith($"{path}: {start}", e.Message);
        Assert.Contains(expectation, e.Message);
    }

    [Fact]
    public void HeaderLengthBeyondTheFileIsRefused()
    {
        using var temp = new TempFolder();
        var path = Raw(temp, """{"w": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}}""", 4, declaredLength: 4096);
        var e = Assert.Throws<DataFormatException>(() => Safetensors.Read(path));
        Assert.StartsWith($"{path}: header length: 4096 bytes", e.Message);
    }

    [Fact]
    public void ReadsHalfAndBFloat16()
    {
        using var temp = new TempFolder();
        var header = """{"h": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}, "b": {"dtype": "BF16", "shape": [2], "data_offsets": [4, 8]}}""";
        var path = Raw(temp, header, 8);
        var bytes = File.ReadAllBytes(path);
        int data = bytes.Length - 8;
        BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(data), (Half)1.5);
        BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(data + 2), (Half)(-0.25));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(data + 4), (ushort)(BitConverter.SingleToInt32Bits(3.0f) >> 16));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(data + 6), (ushort)(BitConverter.SingleToInt32Bits(-1.0f / 128) >> 16));
        File.WriteAllBytes(path, bytes);
        var (tensors, _) = Safetensors.Read(path);
        Assert.Equal([1.5, -0.25], tensors["h"].Data);
        Assert.Equal([3.0, -1.0 / 128], tensors["b"].Data);
    }

    [Fact]
    public void PythonReadsOurFile()
    {
        Assert.True(Support.HasPythonTorch, Requirements.Missing($"torch or numpy for {Support.Python}", "python3-torch", "python3-numpy"));
        using var temp = new TempFolder();
        var path32 = temp.File("ours32.safetensors");
        var path64 = temp.File("ours64.safetensors");
        Safetensors.Write(path32, Finite(), new Dictionary<string, string> { ["who"] = "fisher" });
        Safetensors.Write(path64, Finite(), float32: false);
        const string reader = """
            import json, struct, sys
            import numpy as np, torch
            try:
                from safetensors.torch import load_file
            except ImportError:
                load_file = None
            def read(path):
                if load_file is not None:
                    return load_file(path)
                raw = open(path, "rb").read()
                n = struct.unpack("<Q", raw[:8])[0]
                assert n % 8 == 0, "header not padded"
                header = json.loads(raw[8:8 + n])
                out = {}
                for name, info in header.items():
                    if name == "__metadata__":
                        continue
                    begin, end = info["data_offsets"]
                    dtype = {"F32": np.float32, "F64": np.float64}[info["dtype"]]
                    array = np.frombuffer(raw[8 + n + begin:8 + n + end], dtype=np.dtype(dtype).newbyteorder("<"))
                    out[name] = torch.from_numpy(array.copy()).reshape(info["shape"])
                return out
            for path in sys.argv[1:]:
                for name, t in sorted(read(path).items()):
                    print(path.rsplit("/", 1)[-1], name, str(t.dtype), list(t.shape), repr(float(t.double().sum())))
            """;
        var (code, output, error) = Support.RunPython(reader, path32, path64);
        Assert.True(code == 0, error);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(8, lines.Length);
        foreach (var line in lines)
        {
            var parts = line.Split(' ', 4);
            var file = parts[0];
            var name = parts[1];
            var original = Finite().Single(a => a.Name == name);
            Assert.Equal(file == "ours32.safetensors" ? "torch.float32" : "torch.float64", parts[2]);
            Assert.Equal($"[{string.Join(", ", original.Shape)}]", parts[3][..(parts[3].LastIndexOf(']') + 1)]);
            var sum = double.Parse(parts[3][(parts[3].LastIndexOf(']') + 2)..], CultureInfo.InvariantCulture);
            var ours = Safetensors.Read(file == "ours32.safetensors" ? path32 : path64).Tensors[name].Data.Sum();
            Assert.Equal(ours, sum, ours == 0 ? 1e-300 : Math.Abs(ours) * 1e-12);
        }
    }
}
