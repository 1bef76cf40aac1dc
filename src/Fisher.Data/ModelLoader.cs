using Fisher.Estimators;
using Fisher.Estimators.Graph;
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
    public static IReadOnlyDictionary<string, NamedArray> ReadStateDict(string path) => ReadStateDict(path, expected: null);

    /// <summary>
    /// As <see cref="ReadStateDict(string)"/>; with <paramref name="expected"/>, keys and shapes are compared from the
    /// header before any tensor is read (a difference throws <see cref="ModelMismatchException"/>), and only those
    /// tensors are read. Without it, at most <see cref="ReaderLimits.MaxParameters"/> elements are read.
    /// </summary>
    internal static IReadOnlyDictionary<string, NamedArray> ReadStateDict(string path, IReadOnlyList<(string Name, long[] Shape)>? expected, Func<string, bool>? skip = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = RegularFile.OpenRead(path);
        Span<byte> head = stackalloc byte[9];
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..read];
        if (read >= 4 && head[0] == (byte)'P' && head[1] == (byte)'K' && head[2] == 3 && head[3] == 4)
            return PyTorchZip.Read(path, stream, expected, skip);
        if (Safetensors.LooksLikeSafetensors(head, stream.Length))
            return Safetensors.Read(path, stream, expected, skip).Tensors;
        if (read >= 2 && head[0] == 0x80 && head[1] <= 5)
            throw new DataFormatException(path, "offset 0: a bare pickle: the legacy torch.save format (torch < 1.6 or _use_new_zipfile_serialization=False) is not supported; re-save with the default zip format or as safetensors");
        throw new DataFormatException(path, "offset 0: expected a PyTorch state_dict zip file (magic 'PK\\x03\\x04') or a safetensors file (8-byte little-endian header length, then '{')");
    }

    /// <summary>
    /// Builds the network of <paramref name="architecture"/> with the weights of <paramref name="weightsPath"/>
    /// in <paramref name="dtype"/>. Any difference between the file's keys and shapes and
    /// <see cref="ModelArchitecture.ExpectedParameters"/> throws one <see cref="ModelMismatchException"/> listing all of
    /// them, before any tensor is read.
    /// </summary>
    public static FeedForwardNetwork Load(ModelArchitecture architecture, string weightsPath, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(weightsPath);
        if (dtype is not (ScalarType.Float32 or ScalarType.Float64))
            throw new ArgumentException($"dtype {dtype} is not supported; expected Float32 or Float64", nameof(dtype));
        var expected = architecture.ExpectedParameters();
        var state = ReadStateDict(weightsPath, expected); // keys and shapes checked before any tensor is read

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

    /// <summary>
    /// Builds the layer graph of a graph architecture with the tensors of <paramref name="weightsPath"/>, taken by name
    /// (<c>{layer}.weight</c>, ...). Missing and unexpected tensors throw one <see cref="ModelMismatchException"/>
    /// listing all of them (BatchNorm's <c>num_batches_tracked</c> is ignored, never read); a wrong shape or value is a
    /// <see cref="DataFormatException"/> naming the tensor.
    /// </summary>
    public static LayerGraph LoadGraph(ModelArchitecture architecture, string weightsPath, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(weightsPath);
        var spec = architecture.Graph ?? throw new ArgumentException("a feed-forward architecture: use Load", nameof(architecture));
        var counters = spec.Layers.Where(l => l.Op == LayerOp.BatchNorm).Select(l => l.TensorName("num_batches_tracked")).ToHashSet(StringComparer.Ordinal);
        var state = ReadStateDict(weightsPath, expected: null, counters.Contains);
        var names = spec.TensorNames();
        var problems = names.Where(n => !state.ContainsKey(n)).Select(n => $"missing {n}")
            .Concat(state.Keys.Where(k => !names.Contains(k)).Order(StringComparer.Ordinal).Select(k => $"unexpected {k} {Shapes.Format(state[k].Shape)}"))
            .ToArray();
        if (problems.Length > 0)
            throw new ModelMismatchException(weightsPath, problems);
        using var scope = NewDisposeScope();
        var tensors = state.ToDictionary(p => p.Key, p => ToTensor(p.Value), StringComparer.Ordinal);
        try
        {
            return LayerGraph.Build(spec, tensors, dtype);
        }
        catch (Exception e) when (e is InvalidNetworkException or UnsupportedLayerException)
        {
            throw new DataFormatException(weightsPath, e.Message, e);
        }
    }

    /// <summary>The tensors a graph's layers read: weight and bias of Linear and Conv, running statistics (and the affine weight and bias) of BatchNorm.</summary>
    internal static void Check(string path, IReadOnlyDictionary<string, long[]> state, IReadOnlyList<(string Name, long[] Shape)> expected)
    {
        var problems = new List<string>();
        var expectedNames = new HashSet<string>(expected.Select(e => e.Name), StringComparer.Ordinal);
        foreach (var (name, shape) in expected)
        {
            if (!state.TryGetValue(name, out var actual))
                problems.Add($"missing {name} (architecture expects {Shapes.Format(shape)})");
            else if (!actual.SequenceEqual(shape))
                problems.Add($"{name}: file has {Shapes.Format(actual)}, architecture expects {Shapes.Format(shape)}");
        }
        foreach (var (name, shape) in state.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!expectedNames.Contains(name))
                problems.Add($"unexpected {name} {Shapes.Format(shape)}");
        }
        if (problems.Count > 0)
            throw new ModelMismatchException(path, problems);
    }

    private static Tensor ToTensor(NamedArray array) => tensor(array.Data, array.Shape, ScalarType.Float64);
}
