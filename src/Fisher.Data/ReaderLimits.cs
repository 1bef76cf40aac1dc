namespace Fisher.Data;

/// <summary>
/// The bounds every reader of Fisher.Data holds a file to, defined once (docs/security.md, "Bounded readers"). Sizes
/// a file declares are checked against these and against the file's real size, with checked arithmetic, before
/// anything is allocated, copied or decompressed.
/// </summary>
public static class ReaderLimits
{
    /// <summary>An architecture JSON file is read up to this many bytes; a longer file is refused.</summary>
    public const int MaxArchitectureBytes = 1 << 20;

    /// <summary>The largest layer width an architecture may declare.</summary>
    public const int MaxWidth = 1 << 24;

    /// <summary>The most layers of an architecture's graph form.</summary>
    public const int MaxGraphLayers = 4096;

    /// <summary>The most entries of <c>widths</c> (layers + 1).</summary>
    public const int MaxWidths = 1024;

    /// <summary>
    /// The most parameters (weights and biases) a network may declare, and the most tensor elements a weights file is
    /// read into when no architecture bounds it: 2^27, 1 GiB as float64.
    /// </summary>
    public const long MaxParameters = 1L << 27;

    /// <summary>The largest <c>data.pkl</c> of a torch.save file (a state dict's pickle is a few hundred bytes a tensor).</summary>
    public const int MaxPickleBytes = 16 << 20;

    /// <summary>The most items on the pickle stack, and the most memo entries.</summary>
    public const int MaxPickleItems = 1 << 20;

    /// <summary>The most entries of a zip file, and the largest central directory.</summary>
    public const int MaxZipEntries = 1 << 16;

    /// <inheritdoc cref="MaxZipEntries"/>
    public const int MaxZipDirectoryBytes = 64 << 20;

    /// <summary>The largest safetensors JSON header (the limit of the reference implementation).</summary>
    public const int MaxSafetensorsHeaderBytes = 100 << 20;

    /// <summary>The largest NPY header.</summary>
    public const int MaxNpyHeaderBytes = 1 << 20;

    /// <summary>
    /// A gzip file may promise (in the IDX or NPY header inside it) at most this many times its compressed size...
    /// DEFLATE's own maximum is about 1032:1; image and label sets compress less than 20:1.
    /// </summary>
    public const int MaxGzipRatio = 256;

    /// <summary>...or up to this many bytes, whatever its ratio (a small all-zero label file compresses past 256:1).</summary>
    public const long GzipRatioFreeBytes = 64L << 20;

    /// <summary>
    /// The largest ONNX file: the weights cap (<see cref="MaxParameters"/> elements as float64) plus 16 MiB of graph.
    /// The file is read whole, then every length inside it is checked against what is left.
    /// </summary>
    public const int MaxOnnxBytes = (int)(MaxParameters * sizeof(double)) + (16 << 20);

    /// <summary>The most nodes, and the most initializers, of an ONNX graph.</summary>
    public const int MaxOnnxNodes = 1 << 16;

    /// <summary>The longest name or string attribute in an ONNX file, in UTF-8 bytes.</summary>
    public const int MaxOnnxNameBytes = 4096;
}
