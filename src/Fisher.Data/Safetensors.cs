using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Fisher.Data;

/// <summary>
/// The safetensors format: an 8-byte little-endian header length, a JSON header
/// (<c>{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}</c>) and the
/// little-endian tensor bytes. F64, F32, F16 and BF16 are read (as float64); F32 or F64 are written.
/// </summary>
public static class Safetensors
{
    private const string MetadataKey = "__metadata__";

    /// <summary>
    /// Writes <paramref name="tensors"/> (sorted by name) as F32 (default) or F64, with optional string metadata.
    /// The header is padded with spaces to a multiple of 8 bytes. The file is written to a temporary file in the same
    /// folder and renamed, so a failure never leaves a partial file at <paramref name="path"/>.
    /// </summary>
    public static void Write(string path, IEnumerable<NamedArray> tensors, IReadOnlyDictionary<string, string>? metadata = null, bool float32 = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var sorted = tensors.OrderBy(t => t.Name, StringComparer.Ordinal).ToArray();
        ValidateForWrite(sorted);

        int elementSize = float32 ? 4 : 8;
        byte[] header = Header(sorted, metadata, float32, elementSize);

        AtomicFile.Replace(path, temporary =>
        {
            using var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
            WriteContents(file, header, sorted, float32, elementSize);
            file.Flush(flushToDisk: true);
        });
    }

    /// <summary>Every tensor has a unique, allowed name and as many values as its shape holds.</summary>
    private static void ValidateForWrite(NamedArray[] tensors)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            ArgumentNullException.ThrowIfNull(t, nameof(tensors));
            if (string.IsNullOrEmpty(t.Name) || t.Name == MetadataKey)
                throw new ArgumentException($"tensor name '{t.Name}' is not allowed", nameof(tensors));
            if (!names.Add(t.Name))
                throw new ArgumentException($"tensor name '{t.Name}' appears twice", nameof(tensors));
            if (t.Shape.Any(d => d < 0) || Shapes.ElementCount(t.Shape) != t.Data.Length)
                throw new ArgumentException($"{t.Name}: shape {t.ShapeText} holds {Shapes.ElementCount(t.Shape)} elements but data has {t.Data.Length}", nameof(tensors));
        }
    }

    /// <summary>The JSON header: the metadata (sorted by key), then each tensor's dtype, shape and data offsets; padded with spaces to a multiple of 8 bytes.</summary>
    private static byte[] Header(NamedArray[] sorted, IReadOnlyDictionary<string, string>? metadata, bool float32, int elementSize)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                    writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            long offset = 0;
            foreach (var t in sorted)
            {
                writer.WriteStartObject(t.Name);
                writer.WriteString("dtype", float32 ? "F32" : "F64");
                writer.WriteStartArray("shape");
                foreach (var d in t.Shape)
                    writer.WriteNumberValue(d);
                writer.WriteEndArray();
                long end = offset + (long)t.Data.Length * elementSize;
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offset);
                writer.WriteNumberValue(end);
                writer.WriteEndArray();
                writer.WriteEndObject();
                offset = end;
            }
            writer.WriteEndObject();
        }
        int padding = (int)((8 - stream.Length % 8) % 8);
        for (int i = 0; i < padding; i++)
            stream.WriteByte((byte)' ');
        return stream.ToArray();
    }

    /// <summary>The header length, the header, and each tensor's values, little-endian, in chunks of 64 KB.</summary>
    private static void WriteContents(FileStream file, byte[] header, NamedArray[] sorted, bool float32, int elementSize)
    {
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        file.Write(length);
        file.Write(header);
        var buffer = new byte[1 << 16];
        foreach (var t in sorted)
        {
            int perChunk = buffer.Length / elementSize;
            for (int start = 0; start < t.Data.Length; start += perChunk)
            {
                int n = Math.Min(perChunk, t.Data.Length - start);
                for (int i = 0; i < n; i++)
                {
                    if (float32)
                        BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4 * i), (float)t.Data[start + i]);
                    else
                        BinaryPrimitives.WriteDoubleLittleEndian(buffer.AsSpan(8 * i), t.Data[start + i]);
                }
                file.Write(buffer, 0, n * elementSize);
            }
        }
    }

    /// <summary>
    /// Reads a safetensors file with strict validation: the header must fit in the file (and in
    /// <see cref="ReaderLimits.MaxSafetensorsHeaderBytes"/>) and be a JSON object; every tensor's offsets must lie in the
    /// data section, match its shape and dtype, and not overlap another tensor's. Integer, boolean and 8-bit float dtypes
    /// and unknown dtypes throw <see cref="DataFormatException"/> naming the key.
    /// </summary>
    public static (IReadOnlyDictionary<string, NamedArray> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = RegularFile.OpenRead(path);
        return Read(path, stream, expected: null, budget: false);
    }

    internal static bool LooksLikeSafetensors(ReadOnlySpan<byte> head, long fileLength)
    {
        if (head.Length < 9)
            return false;
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(head);
        return n >= 2 && n <= (ulong)(fileLength - 8) && head[8] == (byte)'{';
    }

    /// <summary>A weights file: with <paramref name="expected"/>, keys and shapes are compared before any tensor is read (<see cref="WeightBudget"/>).</summary>
    internal static (IReadOnlyDictionary<string, NamedArray> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path, FileStream stream, IReadOnlyList<(string Name, long[] Shape)>? expected, Func<string, bool>? skip = null) =>
        Read(path, stream, expected, budget: true, skip);

    private static (IReadOnlyDictionary<string, NamedArray> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path, FileStream stream, IReadOnlyList<(string Name, long[] Shape)>? expected, bool budget, Func<string, bool>? skip = null)
    {
        long length = stream.Length;
        var (entries, metadata, dataStart) = ReadHeader(path, stream, length, skip);
        if (budget)
            WeightBudget.Check(path, entries.ToDictionary(e => e.Name, e => e.Shape, StringComparer.Ordinal), expected);
        var wanted = expected?.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        var tensors = new Dictionary<string, NamedArray>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            if ((wanted is not null && !wanted.Contains(e.Name)) || skip?.Invoke(e.Name) == true)
                continue;
            var raw = new byte[e.End - e.Begin]; // within the file: checked by ReadTensor
            stream.Position = dataStart + e.Begin;
            stream.ReadExactly(raw);
            tensors[e.Name] = new NamedArray(e.Name, e.Shape, Decode(raw, e.DType, e.Count));
        }
        return (tensors, metadata);
    }

    private sealed record Entry(string Name, string DType, long[] Shape, long Count, long Begin, long End);

    /// <summary>The header's entries, each checked against the data section, and the metadata.</summary>
    private static (List<Entry> Entries, Dictionary<string, string> Metadata, long DataStart) ReadHeader(string path, FileStream stream, long length, Func<string, bool>? skip = null)
    {
        if (length < 8)
            throw new DataFormatException(path, $"header length: the file has {length} bytes, fewer than the 8-byte header length");
        Span<byte> prefix = stackalloc byte[8];
        stream.Position = 0;
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(length - 8) || headerLength > ReaderLimits.MaxSafetensorsHeaderBytes)
            throw new DataFormatException(path, $"header length: {headerLength} bytes promised at offset 0; expected at most the {length - 8} bytes that follow and at most {ReaderLimits.MaxSafetensorsHeaderBytes}");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLength;

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"header (offset 8): not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})", e);
        }

        var entries = new List<Entry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new DataFormatException(path, $"header (offset 8): expected a JSON object, got {document.RootElement.ValueKind}");
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!TextChecks.IsPrintable(property.Name))
                    throw new DataFormatException(path, $"header: a tensor name with control characters or over {TextChecks.MaxNameLength} characters");
                if (property.Name == MetadataKey)
                {
                    ReadMetadata(path, property.Value, metadata);
                    continue;
                }
                if (!names.Add(property.Name))
                    throw new DataFormatException(path, $"{property.Name}: tensor given twice in the header");
                entries.Add(ReadTensor(path, property.Name, property.Value, length - dataStart, skip?.Invoke(property.Name) == true));
            }
        }
        CheckNoOverlap(path, entries.Select(e => (e.Begin, e.End, e.Name)).ToList());
        return (entries, metadata, dataStart);
    }

    /// <summary>The <c>__metadata__</c> entry: an object of strings.</summary>
    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new DataFormatException(path, $"{MetadataKey}: expected an object of strings, got {value.ValueKind}");
        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String)
                throw new DataFormatException(path, $"{MetadataKey}: expected an object of strings, got a {m.Value.ValueKind} value");
            metadata[m.Name] = m.Value.GetString()!;
        }
    }

    /// <summary>One tensor's header entry, validated against the <paramref name="dataLength"/>-byte data section, with checked arithmetic.</summary>
    /// <remarks>A <paramref name="skipped"/> entry (never read, e.g. BatchNorm's int64 <c>num_batches_tracked</c>) may have an integer dtype.</remarks>
    private static Entry ReadTensor(string path, string name, JsonElement value, long dataLength, bool skipped = false)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new DataFormatException(path, $"{name}: expected an object with dtype, shape and data_offsets, got {value.ValueKind}");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new DataFormatException(path, $"{name}: dtype: missing or not a string");
        var dtype = dtypeElement.GetString()!;
        var shape = ReadLongs(path, name, "shape", value);
        var offsets = ReadLongs(path, name, "data_offsets", value);
        if (offsets.Length != 2)
            throw new DataFormatException(path, $"{name}: data_offsets: expected [begin, end], got {offsets.Length} numbers");
        int size = skipped && IntegerSize(dtype) is { } integer ? integer : ElementSize(path, name, dtype);
        long count = WeightBudget.ElementCount(path, name, shape);
        long begin = offsets[0], end = offsets[1];
        if (begin < 0 || end < begin || end > dataLength)
            throw new DataFormatException(path, $"{name}: data_offsets: [{begin}, {end}] out of range of the {dataLength}-byte data section");
        if (count > (end - begin) / size || end - begin != count * size)
            throw new DataFormatException(path, $"{name}: data_offsets: [{begin}, {end}] spans {end - begin} bytes, but shape {Shapes.Format(shape)} of {dtype} needs {count} elements of {size} bytes");
        if (end - begin > Array.MaxLength)
            throw new DataFormatException(path, $"{name}: {end - begin} bytes; expected at most {Array.MaxLength} a tensor");
        return new Entry(name, dtype, shape, count, begin, end);
    }

    /// <summary>No two tensors' byte ranges overlap.</summary>
    private static void CheckNoOverlap(string path, List<(long Begin, long End, string Name)> ranges)
    {
        ranges.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        for (int i = 1; i < ranges.Count; i++)
        {
            if (ranges[i].Begin < ranges[i - 1].End)
                throw new DataFormatException(path, $"{ranges[i].Name}: data_offsets: [{ranges[i].Begin}, {ranges[i].End}] overlaps {ranges[i - 1].Name} [{ranges[i - 1].Begin}, {ranges[i - 1].End}]");
        }
    }

    private static long[] ReadLongs(string path, string name, string field, JsonElement value)
    {
        if (!value.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new DataFormatException(path, $"{name}: {field}: missing or not an array");
        var result = new List<long>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var n))
                throw new DataFormatException(path, $"{name}: {field}: expected 64-bit integers, got a {item.ValueKind}");
            result.Add(n);
        }
        return result.ToArray();
    }

    private static int? IntegerSize(string dtype) => dtype switch
    {
        "I64" or "U64" => 8,
        "I32" or "U32" => 4,
        "I16" or "U16" => 2,
        "I8" or "U8" or "BOOL" => 1,
        _ => null,
    };

    private static int ElementSize(string path, string name, string dtype) => dtype switch
    {
        "F64" => 8,
        "F32" => 4,
        "F16" or "BF16" => 2,
        "I64" or "U64" or "I32" or "U32" or "I16" or "U16" or "I8" or "U8" or "BOOL" or "F8_E4M3" or "F8_E5M2" =>
            throw new DataFormatException(path, $"{name}: dtype {dtype} is not a floating-point type; expected F64, F32, F16 or BF16"),
        _ => throw new DataFormatException(path, $"{name}: unknown dtype; expected F64, F32, F16 or BF16"),
    };

    private static double[] Decode(ReadOnlySpan<byte> raw, string dtype, long count)
    {
        var result = new double[count];
        switch (dtype)
        {
            case "F64":
                for (int i = 0; i < result.Length; i++)
                    result[i] = BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]);
                break;
            case "F32":
                for (int i = 0; i < result.Length; i++)
                    result[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]);
                break;
            case "F16":
                for (int i = 0; i < result.Length; i++)
                    result[i] = (double)BinaryPrimitives.ReadHalfLittleEndian(raw[(2 * i)..]);
                break;
            default:
                for (int i = 0; i < result.Length; i++)
                    result[i] = BFloat16(BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]));
                break;
        }
        return result;
    }

    internal static double BFloat16(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);
}
