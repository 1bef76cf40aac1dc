namespace Fisher.Data.Onnx;

/// <summary>The parts of an ONNX ModelProto the importer reads: the default-domain opset and the graph.</summary>
internal sealed record OnnxFile(long OpsetVersion, OnnxGraph Graph);

/// <summary>GraphProto: nodes in topological order, initializers, inputs, outputs and value_info (for shapes).</summary>
internal sealed record OnnxGraph(
    IReadOnlyList<OnnxNode> Nodes,
    IReadOnlyList<OnnxTensor> Initializers,
    IReadOnlyList<OnnxValueInfo> Inputs,
    IReadOnlyList<OnnxValueInfo> Outputs);

/// <summary>NodeProto: an op, its input and output value names and its attributes by name.</summary>
internal sealed record OnnxNode(string Name, string OpType, string Domain, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
    IReadOnlyDictionary<string, OnnxAttribute> Attributes)
{
    /// <summary>How errors name the node: its name (or first output) and op.</summary>
    public string Describe() => $"node '{Shorten(Name.Length > 0 ? Name : First(Outputs))}' (op {Shorten(OpType)})";

    internal static string First(IReadOnlyList<string> values) => values.Count > 0 ? values[0] : "";

    internal static string Shorten(string s) => s.Length <= 120 ? s : s[..120] + "...";
}

/// <summary>AttributeProto: the scalar, list, string and tensor values the mapped ops use.</summary>
internal sealed record OnnxAttribute(string Name, long Type, float? F, long? I, string? S, OnnxTensor? T,
    IReadOnlyList<float> Floats, IReadOnlyList<long> Ints, bool HasGraph);

/// <summary>TensorProto decoded: dims and values (float32 as float[], float64 as double[], int64 and bool as long[]).</summary>
internal sealed record OnnxTensor(string Name, long[] Dims, int DataType, Array Values)
{
    public const int Float = 1;
    public const int Int64 = 7;
    public const int Double = 11;
    public const int Bool = 9;

    /// <summary>The number of elements.</summary>
    public long Count => Values.LongLength;

    /// <summary>Values of an int64 tensor; null for other types.</summary>
    public long[]? Longs => Values as long[];

    /// <summary>Values of a float or double tensor as float64; null for int64.</summary>
    public double[]? Reals => Values switch
    {
        float[] f => [.. f.Select(v => (double)v)],
        double[] d => d,
        _ => null,
    };
}

/// <summary>ValueInfoProto: a value's name, element type and shape (null: a symbolic or missing dimension).</summary>
internal sealed record OnnxValueInfo(string Name, long ElementType, IReadOnlyList<long?>? Shape);
