using Google.Protobuf;

namespace Fisher.Data.Tests.Onnx;

/// <summary>
/// Writes protobuf messages with Google.Protobuf's CodedOutputStream, by field number, so tests can craft ONNX files
/// (valid and broken) without the onnx package. <see cref="Model"/> builds the small valid model the tests start from.
/// </summary>
internal sealed class ProtoWriter
{
    private readonly List<byte> _bytes = [];

    private ProtoWriter Field(int field, WireFormat.WireType type, Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var output = new CodedOutputStream(buffer, leaveOpen: true))
        {
            output.WriteTag(field, type);
            write(output);
        }
        _bytes.AddRange(buffer.ToArray());
        return this;
    }

    public ProtoWriter Varint(int field, long value) => Field(field, WireFormat.WireType.Varint, o => o.WriteInt64(value));

    public ProtoWriter Float(int field, float value) => Field(field, WireFormat.WireType.Fixed32, o => o.WriteFloat(value));

    public ProtoWriter Bytes(int field, byte[] value) => Field(field, WireFormat.WireType.LengthDelimited, o => o.WriteBytes(ByteString.CopyFrom(value)));

    public ProtoWriter Text(int field, string value) => Bytes(field, System.Text.Encoding.UTF8.GetBytes(value));

    public ProtoWriter Message(int field, ProtoWriter value) => Bytes(field, value.ToArray());

    public byte[] ToArray() => [.. _bytes];

    /// <summary>TensorProto: float values in raw_data (little-endian).</summary>
    public static ProtoWriter Tensor(string name, long[] dims, float[] values)
    {
        var t = new ProtoWriter();
        foreach (var d in dims)
            t.Varint(1, d);
        return t.Varint(2, 1).Text(8, name).Bytes(9, [.. values.SelectMany(BitConverter.GetBytes)]);
    }

    /// <summary>ValueInfoProto of a float tensor; null dims are symbolic ("batch").</summary>
    public static ProtoWriter ValueInfo(string name, params long?[] dims)
    {
        var shape = new ProtoWriter();
        foreach (var d in dims)
            shape.Message(1, d is { } v ? new ProtoWriter().Varint(1, v) : new ProtoWriter().Text(2, "batch"));
        var tensorType = new ProtoWriter().Varint(1, 1).Message(2, shape);
        return new ProtoWriter().Text(1, name).Message(2, new ProtoWriter().Message(1, tensorType));
    }

    public static ProtoWriter Node(string name, string op, string[] inputs, string[] outputs, params ProtoWriter[] attributes)
    {
        var n = new ProtoWriter();
        foreach (var i in inputs)
            n.Text(1, i);
        foreach (var o in outputs)
            n.Text(2, o);
        n.Text(3, name).Text(4, op);
        foreach (var a in attributes)
            n.Message(5, a);
        return n;
    }

    public static ProtoWriter IntAttribute(string name, long value) => new ProtoWriter().Text(1, name).Varint(3, value).Varint(20, 2);

    public static ProtoWriter FloatAttribute(string name, float value) => new ProtoWriter().Text(1, name).Float(2, value).Varint(20, 1);

    /// <summary>
    /// A ModelProto (opset 14): input (batch, 4) → Gemm with fc.weight (3, 4) and fc.bias (3) → Relu → output, unless
    /// the arguments replace parts of the graph.
    /// </summary>
    public static byte[] Model(ProtoWriter[]? nodes = null, ProtoWriter[]? initializers = null, ProtoWriter[]? outputs = null, long[]? weightDims = null)
    {
        var dims = weightDims ?? [3, 4];
        initializers ??= [Tensor("fc.weight", dims, new float[dims.Aggregate(1L, (a, b) => a * b)]), Tensor("fc.bias", [3], [0.1f, 0.2f, 0.3f])];
        nodes ??= [
            Node("/fc/Gemm", "Gemm", ["input", "fc.weight", "fc.bias"], ["z"], FloatAttribute("alpha", 1), FloatAttribute("beta", 1), IntAttribute("transB", 1)),
            Node("/act/Relu", "Relu", ["z"], ["logits"]),
        ];
        outputs ??= [ValueInfo("logits", null, 3)];
        var graph = new ProtoWriter();
        foreach (var n in nodes)
            graph.Message(1, n);
        graph.Text(2, "main");
        foreach (var t in initializers)
            graph.Message(5, t);
        graph.Message(11, ValueInfo("input", null, 4));
        foreach (var o in outputs)
            graph.Message(12, o);
        return new ProtoWriter().Varint(1, 8).Text(2, "pytorch").Message(7, graph).Message(8, new ProtoWriter().Varint(2, 14)).ToArray();
    }
}
