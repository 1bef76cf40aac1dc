using Fisher.Data.Onnx;
using Fisher.Estimators;
using Fisher.Estimators.Graph;
using static TorchSharp.torch;

namespace Fisher.Data;

/// <summary>
/// A network exported by <c>torch.onnx.export</c>: its layer graph and its initializers as tensors under their ONNX
/// names (the state_dict keys when exported with the recipe in src/Fisher.Data/README.md). Build the estimator's graph
/// with <c>LayerGraph.Build(model.Spec, model.Tensors, dtype)</c>. Owns the tensors: dispose it.
/// </summary>
public sealed class OnnxModel : IDisposable
{
    private readonly Dictionary<string, Tensor> _tensors;

    private OnnxModel(NetworkSpec spec, Dictionary<string, Tensor> tensors)
    {
        Spec = spec;
        _tensors = tensors;
    }

    /// <summary>The layer graph, in the order of the ONNX nodes.</summary>
    public NetworkSpec Spec { get; }

    /// <summary>Every tensor a layer names (float32 or float64, as stored).</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors => _tensors;

    /// <summary>
    /// Reads an ONNX file and maps it onto a layer graph, checking every initializer's shape against the graph (by
    /// building it once). Throws <see cref="DataFormatException"/> (one line naming the file, then the node or tensor
    /// and what was expected) for a broken file, an unsupported node or a shape mismatch.
    /// </summary>
    public static OnnxModel Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = OnnxReader.Read(path);
        var (spec, decoded) = OnnxGraphMapper.Map(path, file.Graph);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, t) in decoded)
                tensors[name] = ToTensor(t);
            var dtype = tensors.Values.Any(t => t.dtype == ScalarType.Float64) ? ScalarType.Float64 : ScalarType.Float32;
            using (LayerGraph.Build(spec, tensors, dtype)) { }
            return new OnnxModel(spec, tensors);
        }
        catch (Exception e) when (e is InvalidNetworkException or UnsupportedLayerException)
        {
            Dispose(tensors);
            throw new DataFormatException(path, e.Message, e);
        }
        catch
        {
            Dispose(tensors);
            throw;
        }
    }

    private static Tensor ToTensor(OnnxTensor t) => t.Values switch
    {
        float[] f => tensor(f, t.Dims, ScalarType.Float32),
        double[] d => tensor(d, t.Dims, ScalarType.Float64),
        _ => tensor(t.Reals ?? [.. t.Longs!.Select(v => (double)v)], t.Dims, ScalarType.Float64),
    };

    private static void Dispose(Dictionary<string, Tensor> tensors)
    {
        foreach (var t in tensors.Values)
            t.Dispose();
    }

    /// <inheritdoc />
    public void Dispose() => Dispose(_tensors);
}
