namespace Fisher.Data.Onnx;

/// <summary>
/// Reads the fields of an ONNX ModelProto the importer needs (onnx.proto field numbers below), bounded: the file is at
/// most <see cref="ReaderLimits.MaxOnnxBytes"/>, every length is checked against the bytes left (<see cref="ProtoMessage"/>),
/// the schema read is fixed (model, graph, node, attribute, tensor, value info, type, shape: no recursion; a subgraph
/// attribute is refused), node and initializer counts are capped, and a tensor's byte count is product(dims) × element
/// size with checked arithmetic, compared with the bytes present before anything is allocated.
/// </summary>
internal static class OnnxReader
{
    /// <summary>Reads and decodes <paramref name="path"/>; throws <see cref="DataFormatException"/> naming the file.</summary>
    public static OnnxFile Read(string path)
    {
        byte[] bytes;
        using (var stream = RegularFile.OpenRead(path))
        {
            if (stream.Length > ReaderLimits.MaxOnnxBytes)
                throw new DataFormatException(path, $"{stream.Length} bytes; an ONNX file may have at most {ReaderLimits.MaxOnnxBytes}");
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }
        var model = new ProtoMessage(bytes, 0, bytes.Length, path, "ModelProto");
        long? opset = null;
        OnnxGraph? graph = null;
        while (model.Next())
        {
            switch (model.Field)
            {
                case 7: graph = ReadGraph(model.Message("GraphProto")); break;
                case 8:
                    var (domain, version) = ReadOpset(model.Message("OperatorSetIdProto"));
                    if (domain is "" or "ai.onnx")
                        opset = version;
                    break;
                default: model.Skip(); break;
            }
        }
        if (graph is null)
            throw new DataFormatException(path, "no graph (ModelProto field 7); expected an ONNX model");
        if (opset is not { } v || v < MinOpset || v > MaxOpset)
            throw new DataFormatException(path, $"opset_import: default-domain opset {opset?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "missing"}; expected {MinOpset} to {MaxOpset}");
        return new OnnxFile(v, graph);
    }

    /// <summary>The default-domain opsets whose semantics the mapper follows (torch 1.13 exports 7 to 17; Gelu is 20).</summary>
    public const int MinOpset = 9;

    /// <inheritdoc cref="MinOpset"/>
    public const int MaxOpset = 21;

    private static (string Domain, long Version) ReadOpset(ProtoMessage m)
    {
        string domain = "";
        long version = 0;
        while (m.Next())
        {
            switch (m.Field)
            {
                case 1: domain = m.Text(); break;
                case 2: version = m.Varint(); break;
                default: m.Skip(); break;
            }
        }
        return (domain, version);
    }

    private static OnnxGraph ReadGraph(ProtoMessage m)
    {
        var nodes = new List<OnnxNode>();
        var initializers = new List<OnnxTensor>();
        var inputs = new List<OnnxValueInfo>();
        var outputs = new List<OnnxValueInfo>();
        long parameters = 0;
        while (m.Next())
        {
            switch (m.Field)
            {
                case 1:
                    if (nodes.Count >= ReaderLimits.MaxOnnxNodes)
                        throw m.Fail($"more than {ReaderLimits.MaxOnnxNodes} nodes");
                    nodes.Add(ReadNode(m.Message("NodeProto")));
                    break;
                case 5:
                    var tensor = ReadTensor(m.Message("TensorProto"));
                    parameters = checked(parameters + tensor.Count);
                    if (initializers.Count >= ReaderLimits.MaxOnnxNodes || parameters > ReaderLimits.MaxParameters)
                        throw m.Fail($"initializers: more than {ReaderLimits.MaxOnnxNodes} tensors or {ReaderLimits.MaxParameters} elements");
                    initializers.Add(tensor);
                    break;
                case 11: inputs.Add(ReadValueInfo(m.Message("ValueInfoProto"))); break;
                case 12: outputs.Add(ReadValueInfo(m.Message("ValueInfoProto"))); break;
                case 15: throw m.Fail("sparse initializers are not supported; expected dense initializers");
                default: m.Skip(); break;
            }
        }
        return new OnnxGraph(nodes, initializers, inputs, outputs);
    }

    private static OnnxNode ReadNode(ProtoMessage m)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        var attributes = new Dictionary<string, OnnxAttribute>(StringComparer.Ordinal);
        string name = "", op = "", domain = "";
        while (m.Next())
        {
            switch (m.Field)
            {
                case 1: inputs.Add(m.Text()); break;
                case 2: outputs.Add(m.Text()); break;
                case 3: name = m.Text(); break;
                case 4: op = m.Text(); break;
                case 5:
                    var a = ReadAttribute(m.Message("AttributeProto"));
                    attributes[a.Name] = a;
                    break;
                case 7: domain = m.Text(); break;
                default: m.Skip(); break;
            }
        }
        return new OnnxNode(name, op, domain, inputs, outputs, attributes);
    }

    private static OnnxAttribute ReadAttribute(ProtoMessage m)
    {
        string name = "";
        string? s = null;
        long type = 0;
        float? f = null;
        long? i = null;
        OnnxTensor? t = null;
        var floats = new List<float>();
        var ints = new List<long>();
        bool graph = false;
        while (m.Next())
        {
            switch (m.Field)
            {
                case 1: name = m.Text(); break;
                case 2: f = m.Float(); break;
                case 3: i = m.Varint(); break;
                case 4: s = m.Text(); break;
                case 5: t = ReadTensor(m.Message("TensorProto")); break;
                case 6 or 11: graph = true; m.Skip(); break; // a subgraph (If, Loop, Scan): never mapped, not read
                case 7: m.Floats(floats); break;
                case 8: m.Int64s(ints); break;
                case 20: type = m.Varint(); break;
                default: m.Skip(); break;
            }
        }
        return new OnnxAttribute(name, type, f, i, s, t, floats, ints, graph);
    }

    private static OnnxValueInfo ReadValueInfo(ProtoMessage m)
    {
        string name = "";
        long elementType = 0;
        List<long?>? shape = null;
        while (m.Next())
        {
            if (m.Field == 1)
                name = m.Text();
            else if (m.Field == 2)
                (elementType, shape) = ReadType(m.Message("TypeProto"));
            else
                m.Skip();
        }
        return new OnnxValueInfo(name, elementType, shape);
    }

    private static (long ElementType, List<long?>? Shape) ReadType(ProtoMessage m)
    {
        long elementType = 0;
        List<long?>? shape = null;
        while (m.Next())
        {
            if (m.Field != 1)
            {
                m.Skip();
                continue;
            }
            var tensor = m.Message("TypeProto.Tensor");
            while (tensor.Next())
            {
                if (tensor.Field == 1)
                    elementType = tensor.Varint();
                else if (tensor.Field == 2)
                    shape = ReadShape(tensor.Message("TensorShapeProto"));
                else
                    tensor.Skip();
            }
        }
        return (elementType, shape);
    }

    private static List<long?> ReadShape(ProtoMessage m)
    {
        var dims = new List<long?>();
        while (m.Next())
        {
            if (m.Field != 1)
            {
                m.Skip();
                continue;
            }
            var dim = m.Message("TensorShapeProto.Dimension");
            long? value = null;
            while (dim.Next())
            {
                if (dim.Field == 1)
                    value = dim.Varint();
                else
                    dim.Skip();
            }
            dims.Add(value);
        }
        return dims;
    }

    private static OnnxTensor ReadTensor(ProtoMessage m) => OnnxTensorReader.Read(m);
}
