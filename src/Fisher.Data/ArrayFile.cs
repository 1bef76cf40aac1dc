using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Win32.SafeHandles;

namespace Fisher.Data;

internal enum ElementType
{
    UInt8,
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
}

/// <summary>The header of an IDX or NPY array: element type, shape and where the row-major data starts.</summary>
internal sealed record ArrayHeader(string Format, string DType, ElementType? Type, bool BigEndian, long[] Shape, long DataOffset)
{
    public int ElementSize => Type switch
    {
        ElementType.UInt8 or ElementType.Int8 => 1,
        ElementType.Int16 => 2,
        ElementType.Int32 or ElementType.Float32 => 4,
        _ => 8,
    };

    public long Rows => Shape[0];

    public long RowElements
    {
        get
        {
            long n = 1;
            for (int i = 1; i < Shape.Length; i++)
                n = checked(n * Shape[i]);
            return n;
        }
    }

    public string ShapeText => $"({string.Join(", ", Shape)})";
}

/// <summary>
/// Reads rows of an IDX or NPY array file, plain or gzip-compressed (detected by the magic 1F 8B). Plain files are
/// read at the offset of the requested rows; gzip files are decompressed as a stream, keeping the position so that
/// sequential reads never restart. A read that would skip or go back at least <see cref="CopyThresholdBytes"/> of
/// decompressed data switches to a plain copy of the file (<see cref="DecompressedCopies"/>) when one can be had.
/// Not thread-safe.
/// </summary>
internal sealed partial class ArrayFile : IDisposable
{
    private const int ChunkBytes = 1 << 20;
    private static readonly byte[] NpyMagic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Skips (or backward reads) shorter than this decompress in place; longer ones use a plain copy.</summary>
    internal const long CopyThresholdBytes = 4 << 20;

    private SafeFileHandle? _handle;
    private FileStream? _gzipFile;
    private GZipStream? _gzip;
    private long _gzipPosition;
    private byte[] _buffer = [];
    private byte[]? _skip;
    private readonly DecompressedCopies? _copies;

    private ArrayFile(string path, ArrayHeader header, SafeFileHandle? handle, FileStream? gzipFile, GZipStream? gzip, long gzipPosition, DecompressedCopies? copies)
    {
        _copies = copies;
        Path = path;
        Header = header;
        _handle = handle;
        _gzipFile = gzipFile;
        _gzip = gzip;
        _gzipPosition = gzipPosition;
        RowBytes = checked(header.RowElements * header.ElementSize);
        Compressed = handle is null;
    }

    public string Path { get; }

    public ArrayHeader Header { get; }

    public long RowBytes { get; }

    public bool Compressed { get; }

    /// <summary>True once reads go to a plain copy of the compressed file.</summary>
    internal bool UsesCopy => Compressed && _handle is not null;

    /// <summary>How many times the gzip stream was reopened from the start (a backward read).</summary>
    internal int Restarts { get; private set; }

    /// <summary>Bytes decompressed so far, skipped ones included.</summary>
    internal long DecompressedBytes { get; private set; }

    /// <summary>
    /// Opens <paramref name="path"/> and reads its header; a far read of a gzip file uses a plain copy from
    /// <paramref name="copies"/> (default: <see cref="DecompressedCopies.FromEnvironment"/>, as the environment is then).
    /// </summary>
    public static ArrayFile Open(string path, DecompressedCopies? copies = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        GZipStream? gzip = null;
        try
        {
            Span<byte> magic = stackalloc byte[2];
            int n = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            file.Position = 0;
            if (n == 2 && magic[0] == 0x1F && magic[1] == 0x8B)
            {
                gzip = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
                var reader = new HeaderReader(path, gzip, compressed: true);
                var header = ParseHeader(path, reader);
                return new ArrayFile(path, header, null, file, gzip, reader.Position, copies) { DecompressedBytes = reader.Position };
            }
            else
            {
                var reader = new HeaderReader(path, file, compressed: false);
                var header = ParseHeader(path, reader);
                long rowBytes = header.ElementSize * header.RowElements;
                long needed = header.DataOffset + header.Rows * rowBytes;
                if (header.Type is not null && file.Length < needed) // an unknown dtype is reported by the caller, naming the role
                {
                    long row = rowBytes == 0 ? 0 : (file.Length - header.DataOffset) / rowBytes;
                    throw new DataFormatException(path, $"row {row}: the file ends at byte {file.Length}, but the header promises {header.Rows} rows of {rowBytes} bytes from byte {header.DataOffset} (to byte {needed}); truncated file?");
                }
                file.Dispose();
                var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
                return new ArrayFile(path, header, handle, null, null, 0, null);
            }
        }
        catch
        {
            gzip?.Dispose();
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads rows [start, start + count) as float64 into <paramref name="destination"/> (count * RowElements).</summary>
    public void Read(long start, int count, Span<double> destination)
    {
        long total = count * RowBytes;
        if (total == 0)
            return;
        int chunkRows = (int)Math.Max(1, Math.Min(count, ChunkBytes / Math.Max(1, RowBytes)));
        int chunkBytes = checked((int)(chunkRows * RowBytes));
        if (_buffer.Length < chunkBytes)
            _buffer = new byte[chunkBytes];
        int elements = (int)Header.RowElements;
        for (int done = 0; done < count; done += chunkRows)
        {
            int rows = Math.Min(chunkRows, count - done);
            var bytes = _buffer.AsSpan(0, checked((int)(rows * RowBytes)));
            if (_handle is not null)
                ReadPlain(start + done, bytes); // a plain file, or the plain copy of a compressed one
            else
                ReadCompressed(start + done, bytes);
            Decode(bytes, destination.Slice(done * elements, rows * elements));
        }
    }

    private void ReadPlain(long row, Span<byte> bytes)
    {
        long offset = Header.DataOffset + row * RowBytes;
        int filled = 0;
        while (filled < bytes.Length)
        {
            int n = RandomAccess.Read(_handle!, bytes[filled..], offset + filled);
            if (n == 0)
                throw Truncated(row + filled / RowBytes, offset + filled);
            filled += n;
        }
    }

    private void ReadCompressed(long row, Span<byte> bytes)
    {
        long target = Header.DataOffset + row * RowBytes;
        long distance = target < _gzipPosition ? target : target - _gzipPosition; // bytes to decompress before the rows
        if (distance >= CopyThresholdBytes && SwitchToCopy())
        {
            ReadPlain(row, bytes);
            return;
        }
        if (target < _gzipPosition)
            Restart();
        try
        {
            if (target > _gzipPosition)
            {
                _skip ??= new byte[1 << 16];
                var skipBuffer = _skip.AsSpan();
                while (_gzipPosition < target)
                {
                    int want = (int)Math.Min(skipBuffer.Length, target - _gzipPosition);
                    int n = _gzip!.Read(skipBuffer[..want]);
                    if (n == 0)
                        throw Truncated((_gzipPosition - Header.DataOffset) / RowBytes, _gzipPosition);
                    _gzipPosition += n;
                    DecompressedBytes += n;
                }
            }
            int filled = 0;
            while (filled < bytes.Length)
            {
                int n = _gzip!.Read(bytes[filled..]);
                if (n == 0)
                    throw Truncated(row + filled / RowBytes, _gzipPosition);
                filled += n;
                _gzipPosition += n;
                DecompressedBytes += n;
            }
        }
        catch (InvalidDataException e)
        {
            var at = _gzipPosition;
            Restart(); // leave a usable reader behind
            throw new DataFormatException(Path, $"row {(at - Header.DataOffset) / RowBytes}: damaged gzip data after {at} decompressed bytes: {e.Message}", e);
        }
    }

    private bool SwitchToCopy()
    {
        var copy = (_copies ?? DecompressedCopies.FromEnvironment()).TryGet(Path, Header.DataOffset + Header.Rows * RowBytes);
        if (copy is null)
            return false;
        try
        {
            _handle = File.OpenHandle(copy, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.RandomAccess);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // removed meanwhile: decompress in place
        }
        _gzip?.Dispose();
        _gzipFile?.Dispose();
        _gzip = null;
        _gzipFile = null;
        return true;
    }

    private void Restart()
    {
        _gzip?.Dispose();
        _gzipFile?.Dispose();
        _gzipFile = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        _gzip = new GZipStream(_gzipFile, CompressionMode.Decompress, leaveOpen: true);
        _gzipPosition = 0;
        Restarts++;
    }

    private DataFormatException Truncated(long row, long at) =>
        new(Path, $"row {row}: the {(Compressed ? "decompressed " : "")}data ends at byte {at}, but the header promises {Header.Rows} rows of {RowBytes} bytes from byte {Header.DataOffset}; truncated file?");

    private void Decode(ReadOnlySpan<byte> src, Span<double> dst)
    {
        bool big = Header.BigEndian;
        switch (Header.Type)
        {
            case ElementType.UInt8:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = src[i];
                break;
            case ElementType.Int8:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = (sbyte)src[i];
                break;
            case ElementType.Int16:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = big ? BinaryPrimitives.ReadInt16BigEndian(src[(2 * i)..]) : BinaryPrimitives.ReadInt16LittleEndian(src[(2 * i)..]);
                break;
            case ElementType.Int32:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = big ? BinaryPrimitives.ReadInt32BigEndian(src[(4 * i)..]) : BinaryPrimitives.ReadInt32LittleEndian(src[(4 * i)..]);
                break;
            case ElementType.Int64:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = big ? BinaryPrimitives.ReadInt64BigEndian(src[(8 * i)..]) : BinaryPrimitives.ReadInt64LittleEndian(src[(8 * i)..]);
                break;
            case ElementType.Float32:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = big ? BinaryPrimitives.ReadSingleBigEndian(src[(4 * i)..]) : BinaryPrimitives.ReadSingleLittleEndian(src[(4 * i)..]);
                break;
            case ElementType.Float64:
                for (int i = 0; i < dst.Length; i++)
                    dst[i] = big ? BinaryPrimitives.ReadDoubleBigEndian(src[(8 * i)..]) : BinaryPrimitives.ReadDoubleLittleEndian(src[(8 * i)..]);
                break;
            default:
                throw new InvalidOperationException($"{Path}: dtype {Header.DType} has no decoder");
        }
    }

    public void Dispose()
    {
        _handle?.Dispose();
        _gzip?.Dispose();
        _gzipFile?.Dispose();
    }

    // ---- headers ----

    private static ArrayHeader ParseHeader(string path, HeaderReader reader)
    {
        var head = reader.Take(4, "magic");
        if (head[0] == 0 && head[1] == 0)
            return ParseIdx(path, reader, head[2], head[3]);
        if (head[0] == NpyMagic[0])
        {
            var rest = reader.Take(2, "magic");
            if (head.AsSpan(1).SequenceEqual(NpyMagic.AsSpan(1, 3)) && rest.AsSpan().SequenceEqual(NpyMagic.AsSpan(4, 2)))
                return ParseNpy(path, reader);
        }
        throw new DataFormatException(path, $"offset 0: expected an IDX file (bytes 00 00 <type> <rank>) or an NPY file (\\x93NUMPY), plain or gzip, got neither (the file's bytes are not shown)");
    }

    private static ArrayHeader ParseIdx(string path, HeaderReader reader, byte code, byte rank)
    {
        var (type, name) = code switch
        {
            0x08 => (ElementType.UInt8, "ubyte"),
            0x09 => (ElementType.Int8, "byte"),
            0x0B => (ElementType.Int16, "short"),
            0x0C => (ElementType.Int32, "int"),
            0x0D => (ElementType.Float32, "float"),
            0x0E => (ElementType.Float64, "double"),
            _ => throw new DataFormatException(path, $"offset 2: IDX type code 0x{code:X2} is unknown; expected 08 (ubyte), 09 (byte), 0B (short), 0C (int), 0D (float) or 0E (double)"),
        };
        if (rank == 0)
            throw new DataFormatException(path, "offset 3: IDX rank 0; expected at least one dimension (the rows)");
        var dims = reader.Take(4 * rank, "IDX dimensions");
        var shape = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            int d = BinaryPrimitives.ReadInt32BigEndian(dims.AsSpan(4 * i));
            if (d < 0)
                throw new DataFormatException(path, $"offset {4 + 4 * i}: IDX dimension {i} is negative ({d})");
            shape[i] = d;
        }
        return new ArrayHeader("IDX", name, type, BigEndian: true, shape, 4 + 4L * rank);
    }

    private static ArrayHeader ParseNpy(string path, HeaderReader reader)
    {
        var version = reader.Take(2, "NPY version");
        int major = version[0];
        int headerLength;
        long prefix;
        switch (major)
        {
            case 1:
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(reader.Take(2, "NPY header length"));
                prefix = 10;
                break;
            case 2:
            case 3:
                uint length = BinaryPrimitives.ReadUInt32LittleEndian(reader.Take(4, "NPY header length"));
                if (length > 1 << 24)
                    throw new DataFormatException(path, $"offset 8: NPY header length {length} is implausible");
                headerLength = (int)length;
                prefix = 12;
                break;
            default:
                throw new DataFormatException(path, $"offset 6: NPY version {major}.{version[1]} is unknown; expected 1.0, 2.0 or 3.0");
        }
        var text = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(reader.Take(headerLength, "NPY header"));

        var descr = DescrPattern().Match(text);
        if (!descr.Success)
            throw new DataFormatException(path, $"header: no simple 'descr' (structured dtypes are not supported)");
        var fortran = FortranPattern().Match(text);
        if (!fortran.Success)
            throw new DataFormatException(path, $"header: no 'fortran_order'");
        if (fortran.Groups[1].Value == "True")
            throw new DataFormatException(path, "header: fortran_order is True; expected C order (save with np.ascontiguousarray)");
        var shapeMatch = ShapePattern().Match(text);
        if (!shapeMatch.Success)
            throw new DataFormatException(path, $"header: no 'shape' tuple");
        var shape = new List<long>();
        foreach (var part in shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!long.TryParse(part.TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out var d))
                throw new DataFormatException(path, $"header: shape: entry {shape.Count} is not a non-negative integer");
            shape.Add(d);
        }
        if (shape.Count == 0)
            throw new DataFormatException(path, "header: shape () is a scalar; expected at least one dimension (the rows)");

        var dtype = descr.Groups[1].Value;
        var normal = dtype.Length == 3 && (dtype[0] == '=' || (dtype[2] == '1' && dtype[0] is '<' or '>'))
            ? (dtype[2] == '1' ? "|" : "<") + dtype[1..]
            : dtype;
        var (type, big) = NpyType(normal);
        return new ArrayHeader("NPY", normal, type, big, shape.ToArray(), prefix + headerLength);
    }

    private static (ElementType? Type, bool BigEndian) NpyType(string dtype) => dtype switch
    {
        "|u1" => (ElementType.UInt8, false),
        "|i1" => (ElementType.Int8, false),
        "<i2" => (ElementType.Int16, false),
        ">i2" => (ElementType.Int16, true),
        "<i4" => (ElementType.Int32, false),
        ">i4" => (ElementType.Int32, true),
        "<i8" => (ElementType.Int64, false),
        ">i8" => (ElementType.Int64, true),
        "<f4" => (ElementType.Float32, false),
        ">f4" => (ElementType.Float32, true),
        "<f8" => (ElementType.Float64, false),
        ">f8" => (ElementType.Float64, true),
        _ => (null, false),
    };

    [GeneratedRegex(@"['""]descr['""]\s*:\s*['""]([^'""]*)['""]")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"['""]fortran_order['""]\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"['""]shape['""]\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();

    /// <summary>Reads header bytes exactly, naming the field when the file ends early.</summary>
    private sealed class HeaderReader(string path, Stream stream, bool compressed)
    {
        public long Position { get; private set; }

        public byte[] Take(int n, string field)
        {
            var bytes = new byte[n];
            int read;
            try
            {
                read = stream.ReadAtLeast(bytes, n, throwOnEndOfStream: false);
            }
            catch (InvalidDataException e)
            {
                throw new DataFormatException(path, $"offset {Position}: damaged gzip data in the {field}: {e.Message}", e);
            }
            if (read < n)
                throw new DataFormatException(path, $"offset {Position + read}: the {(compressed ? "decompressed " : "")}file ends inside the {field} (expected {n} bytes at offset {Position})");
            Position += n;
            return bytes;
        }
    }
}
