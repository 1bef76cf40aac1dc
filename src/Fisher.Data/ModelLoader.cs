using Fisher.Estimators;
using TorchSharp;
using static TorchSharp.torch;

namespace Fisher.Data;

/// <summary>Loads network weights from PyTorch <c>state_dict</c> zip files or safetensors files.</summary>
public static class ModelLoader
{
    /// <summary>
    /// Reads every tensor of a <c>torch.save(model.state_dict(), path)</c> zip file (torch ≥ 1.6) or a safetensors
    /// file, detected from the content (zip magic <c>PK\x03\x04</c>, or an 8-byte little-endian header length
    /// followed by JSON), never from the extension. Float32/64/16 and bfloat16 become float64; any other dtype throws
    /// <see cref="DataFormatException"/> naming the key and dtype.
    /// </summary>
    public static IReadOnlyDictionary<string, NamedArray> ReadStateDict(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Span<byte> head = stackalloc byte[9];
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..read];
        if (read >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4)
        {
            stream.Position = 0;
            return PyTorchZip.Read(path, stream);
        }
        if (Safetensors.LooksLikeSafetensors(head, stream.Length))
        {
            var bytes = new byte[stream.Length];
            stream.Position = 0;
            stream.ReadExactly(bytes);
            return Safetensors.Read(path, bytes).Tensors;
        }
        if (read >= 2 && head[0] == 0x80 && head[1] <= 5)
            throw new DataFormatException(path, "offset 0: a bare pickle: the legacy torch.save format (torch < 1.6 or _use_new_zipfile_serialization=False) is not supported; re-save with the default zip format or as safetensors");
        throw new DataFormatException(path, $"offset 0: expected a PyTorch state_dict zip file (magic 'PK\\x03\\x04') or a safetensors file (8-byte little-endian header length, then '{{'), got neither (the file's bytes are not shown)");
    }

    /// <summary>
    /// Builds the network of <paramref name="architecture"/> with the weights of <paramref name="weightsPath"/>
    /// in <paramref name="dtype"/>. Any difference between the file's keys and shapes and
    /// <see cref="ModelArchitecture.ExpectedParameters"/> throws one <see cref="ModelMismatchException"/> listing all of them.
    /// </summary>
    public static FeedForwardNetwork Load(ModelArchitecture architecture, string weightsPath, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(weightsPath);
        if (dtype is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentException($"dtype {dtype} is not supported; expected Float32 or Float64", nameof(dtype));
        var state = ReadStateDict(weightsPath);
        var expected = architecture.ExpectedParameters();
        Check(weightsPath, state, expected);

        using var scope = NewDisposeScope();
        var weights = new List<Tensor>();
        var biases = new List<Tensor>();
        for (int l = 0; l < architecture.LayerNames.Count; l++)
        {
            weights.Add(ToTensor(state[expected[2 * l].Name]));
            biases.Add(ToTensor(state[expected[2 * l + 1].Name]));
        }
        try
        {
            return FeedForwardNetwork.FromTensors(weights, biases, architecture.Activations, architecture.LayerNames, dtype);
        }
        catch (InvalidNetworkException e)
        {
            throw new DataFormatException(weightsPath, e.Message, e);
        }
    }

    internal static void Check(string path, IReadOnlyDictionary<string, NamedArray> state, IReadOnlyList<(string Name, long[] Shape)> expected)
    {
        var problems = new List<string>();
        var expectedNames = new HashSet<string>(expected.Select(e => e.Name), StringComparer.Ordinal);
        foreach (var (name, shape) in expected)
        {
            if (!state.TryGetValue(name, out var array))
                problems.Add($"missing {name} (architecture expects {Shapes.Format(shape)})");
            else if (!array.Shape.SequenceEqual(shape))
                problems.Add($"{name}: file has {Shapes.Format(array.Shape)}, architecture expects {Shapes.Format(shape)}");
        }
        foreach (var (name, array) in state.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!expectedNames.Contains(name))
                problems.Add($"unexpected {name} {Shapes.Format(array.Shape)}");
        }
        if (problems.Count > 0)
            throw new ModelMismatchException(path, problems);
    }

    private static Tensor ToTensor(NamedArray array) => tensor(array.Data, array.Shape, ScalarType.Float64);
}
