using Google.Protobuf;

namespace Fisher.Data.Onnx;

/// <summary>
/// One protobuf message of an ONNX file: a window of the file's bytes read field by field with Google.Protobuf's
/// <see cref="CodedInputStream"/>. Every length is checked against the bytes left in the window (so against the file)
/// before anything is sliced or allocated; a truncated field, a malformed varint or a length past the end throws
/// <see cref="DataFormatException"/> naming the file, the message kind and the byte offset.
/// </summary>
internal sealed class ProtoMessage(byte[] buffer, int start, int end, string path, string kind)
{
    private readonly byte[] _buffer = buffer;
    private readonly int _end = end;
    private int _position = start;

    public string Path { get; } = path;

    /// <summary>The file's bytes (windows returned by <see cref="Bytes"/> index into it).</summary>
    public byte[] Buffer => _buffer;

    public string Kind { get; } = kind;

    /// <summary>The field number of the field just read by <see cref="Next"/>.</summary>
    public int Field { get; private set; }

    /// <summary>The wire type of the field just read by <see cref="Next"/>.</summary>
    public WireFormat.WireType WireType { get; private set; }

    /// <summary>Reads the next field's tag; false at the end of the message.</summary>
    public bool Next()
    {
        if (_position >= _end)
            return false;
        uint tag = Read(s => s.ReadTag());
        Field = WireFormat.GetTagFieldNumber(tag);
        WireType = WireFormat.GetTagWireType(tag);
        if (Field < 1)
            throw Fail("field number 0; expected a positive field number");
        return true;
    }

    /// <summary>A varint field (int32, int64, enum): negative int64 values use ten bytes.</summary>
    public long Varint()
    {
        Expect(WireFormat.WireType.Varint);
        return Read(s => s.ReadInt64());
    }

    /// <summary>A float field (fixed32).</summary>
    public float Float()
    {
        Expect(WireFormat.WireType.Fixed32);
        return Read(s => s.ReadFloat());
    }

    /// <summary>A length-delimited field as a window of the file: (offset, length).</summary>
    public (int Offset, int Length) Bytes()
    {
        Expect(WireFormat.WireType.LengthDelimited);
        int length = Read(s => s.ReadLength());
        if (length < 0 || length > _end - _position)
            throw Fail($"field {Field}: length {length} runs past the end of the {Kind} ({_end - _position} bytes left)");
        int offset = _position;
        _position += length;
        return (offset, length);
    }

    /// <summary>A string field (UTF-8), at most <see cref="ReaderLimits.MaxOnnxNameBytes"/> bytes.</summary>
    public string Text()
    {
        var (offset, length) = Bytes();
        if (length > ReaderLimits.MaxOnnxNameBytes)
            throw Fail($"field {Field}: a string of {length} bytes; expected at most {ReaderLimits.MaxOnnxNameBytes}");
        return System.Text.Encoding.UTF8.GetString(_buffer, offset, length);
    }

    /// <summary>An embedded message field.</summary>
    public ProtoMessage Message(string childKind)
    {
        var (offset, length) = Bytes();
        return new ProtoMessage(_buffer, offset, offset + length, Path, childKind);
    }

    /// <summary>Appends a repeated int64 field, packed or not.</summary>
    public void Int64s(List<long> into)
    {
        if (WireType != WireFormat.WireType.LengthDelimited)
        {
            into.Add(Varint());
            return;
        }
        var (offset, length) = Bytes();
        Packed(offset, length, s => s.ReadInt64(), into);
    }

    /// <summary>Appends a repeated float (fixed32) field, packed or not.</summary>
    public void Floats(List<float> into) => Fixed(into, WireFormat.WireType.Fixed32, 4, s => s.ReadFloat());

    /// <summary>Appends a repeated double (fixed64) field, packed or not.</summary>
    public void Doubles(List<double> into) => Fixed(into, WireFormat.WireType.Fixed64, 8, s => s.ReadDouble());

    /// <summary>Skips a field this reader does not need.</summary>
    public void Skip()
    {
        switch (WireType)
        {
            case WireFormat.WireType.Varint: Read(s => s.ReadInt64()); break;
            case WireFormat.WireType.Fixed32: Advance(4); break;
            case WireFormat.WireType.Fixed64: Advance(8); break;
            case WireFormat.WireType.LengthDelimited: Bytes(); break;
            default: throw Fail($"field {Field}: wire type {(int)WireType} (groups are not used by ONNX)");
        }
    }

    /// <summary>An error at the current field, naming the file, message kind and byte offset.</summary>
    public DataFormatException Fail(string detail) => new(Path, $"{Kind} at byte {_position}: {detail}");

    private void Fixed<T>(List<T> into, WireFormat.WireType single, int size, Func<CodedInputStream, T> read)
    {
        if (WireType == single)
        {
            into.Add(Read(read));
            return;
        }
        var (_, length) = Bytes();
        if (length % size != 0)
            throw Fail($"field {Field}: a packed array of {length} bytes; expected a multiple of {size}");
        Packed(_position - length, length, read, into);
    }

    /// <summary>Every value of a packed window, read by one stream (one element at a time would make a stream each).</summary>
    private void Packed<T>(int offset, int length, Func<CodedInputStream, T> read, List<T> into)
    {
        var stream = new CodedInputStream(_buffer, offset, length);
        try
        {
            while (!stream.IsAtEnd)
                into.Add(read(stream));
        }
        catch (InvalidProtocolBufferException)
        {
            throw Fail($"field {Field}: a packed array is truncated or holds a malformed varint");
        }
    }

    private void Expect(WireFormat.WireType type)
    {
        if (WireType != type)
            throw Fail($"field {Field}: wire type {(int)WireType}; expected {(int)type}");
    }

    private void Advance(int bytes)
    {
        if (bytes > _end - _position)
            throw Fail($"field {Field}: {bytes} bytes run past the end of the {Kind}");
        _position += bytes;
    }

    private T Read<T>(Func<CodedInputStream, T> read)
    {
        var stream = new CodedInputStream(_buffer, _position, _end - _position);
        long before = stream.Position;
        try
        {
            var value = read(stream);
            _position = checked(_position + (int)(stream.Position - before));
            return value;
        }
        catch (InvalidProtocolBufferException)
        {
            throw Fail($"field {Field}: truncated or malformed (a varint of more than 10 bytes, or a value past the end of the {Kind})");
        }
    }
}
