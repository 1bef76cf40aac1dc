using System.Buffers.Binary;

namespace Fisher.Data.Onnx;

/// <summary>
/// Decodes a TensorProto (float, double, int64 or bool (as int64); raw_data little-endian or the typed repeated fields). The element
/// count is the product of dims (checked, at most <see cref="ReaderLimits.MaxParameters"/>) and must equal what the
/// data holds; a tensor whose data lives in an external file is refused.
/// </summary>
internal static class OnnxTensorReader
{
    public static OnnxTensor Read(ProtoMessage m)
    {
        var dims = new List<long>();
        var floats = new List<float>();
        var doubles = new List<double>();
        var longs = new List<long>();
        (int Offset, int Length)? raw = null;
        string name = "";
        long type = 0;
        byte[]? buffer = null;
        while (m.Next())
        {
            switch (m.Field)
            {
                case 1: m.Int64s(dims); break;
                case 2: type = m.Varint(); break;
                case 4: m.Floats(floats); break;
                case 5: m.Int64s(longs); break; // int32_data, which also holds bool
                case 7: m.Int64s(longs); break;
                case 8: name = m.Text(); break;
                case 9: raw = m.Bytes(); buffer = m.Buffer; break;
                case 10: m.Doubles(doubles); break;
                case 13: throw External(m, name);
                case 14:
                    if (m.Varint() != 0)
                        throw External(m, name);
                    break;
                default: m.Skip(); break;
            }
        }
        long count = Count(m, name, dims);
        Array values = type switch
        {
            OnnxTensor.Float => raw is { } r ? Raw(m, name, buffer!, r, count, 4, (s, i) => BinaryPrimitives.ReadSingleLittleEndian(s[(i * 4)..])) : Typed(m, name, floats, count),
            OnnxTensor.Double => raw is { } r ? Raw(m, name, buffer!, r, count, 8, (s, i) => BinaryPrimitives.ReadDoubleLittleEndian(s[(i * 8)..])) : Typed(m, name, doubles, count),
            OnnxTensor.Int64 => raw is { } r ? Raw(m, name, buffer!, r, count, 8, (s, i) => BinaryPrimitives.ReadInt64LittleEndian(s[(i * 8)..])) : Typed(m, name, longs, count),
            OnnxTensor.Bool => raw is { } r ? Raw(m, name, buffer!, r, count, 1, (s, i) => (long)s[i]) : Typed(m, name, longs, count),
            _ => throw m.Fail($"tensor '{OnnxNode.Shorten(name)}': data type {type}; expected 1 (float), 11 (double), 7 (int64) or 9 (bool)"),
        };
        return new OnnxTensor(name, [.. dims], (int)type, values);
    }

    private static DataFormatException External(ProtoMessage m, string name) =>
        m.Fail($"tensor '{OnnxNode.Shorten(name)}': its data is in an external file; expected the data inside the ONNX file (export without external data)");

    private static long Count(ProtoMessage m, string name, List<long> dims)
    {
        long count = 1;
        foreach (var d in dims)
        {
            if (d < 0 || d > ReaderLimits.MaxParameters)
                throw m.Fail($"tensor '{OnnxNode.Shorten(name)}': dimension {d}; expected 0 to {ReaderLimits.MaxParameters}");
            count = checked(count * d);
            if (count > ReaderLimits.MaxParameters)
                throw m.Fail($"tensor '{OnnxNode.Shorten(name)}': dims [{string.Join(", ", dims)}] hold more than {ReaderLimits.MaxParameters} elements");
        }
        return count;
    }

    private delegate T Decode<T>(ReadOnlySpan<byte> bytes, int index);

    private static T[] Raw<T>(ProtoMessage m, string name, byte[] buffer, (int Offset, int Length) raw, long count, int size, Decode<T> decode)
    {
        if (raw.Length != checked(count * size))
            throw m.Fail($"tensor '{OnnxNode.Shorten(name)}': raw_data has {raw.Length} bytes; its dims need {count} × {size}");
        var span = buffer.AsSpan(raw.Offset, raw.Length);
        var values = new T[count];
        for (int i = 0; i < values.Length; i++)
            values[i] = decode(span, i);
        return values;
    }

    private static T[] Typed<T>(ProtoMessage m, string name, List<T> data, long count)
    {
        if (data.Count != count)
            throw m.Fail($"tensor '{OnnxNode.Shorten(name)}': {data.Count} values; its dims need {count}");
        return [.. data];
    }
}
