using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;

namespace Fisher.Data;

/// <summary>One entry of a zip file's central directory, its local header checked.</summary>
internal sealed record ZipEntry(string Name, int Method, long CompressedSize, long Size, uint Crc, long DataOffset);

/// <summary>
/// The central directory of a zip file (zip64 included), every size and offset checked against the file's real size
/// with checked arithmetic before anything is allocated: the directory lies before its end record, each local header
/// before the directory and consistent with its central entry (name), each entry's data within the file. Entries are
/// read only stored or deflated, bounded by the size their caller expects and verified by their CRC-32.
/// </summary>
internal sealed class ZipDirectory
{
    private const uint EndSignature = 0x06054b50, End64Signature = 0x06064b50, Locator64Signature = 0x07064b50;
    private const uint CentralSignature = 0x02014b50, LocalSignature = 0x04034b50;

    private readonly string _path;
    private readonly FileStream _file;
    private readonly Dictionary<string, ZipEntry> _entries = new(StringComparer.Ordinal);

    private ZipDirectory(string path, FileStream file)
    {
        _path = path;
        _file = file;
    }

    public IEnumerable<ZipEntry> Entries => _entries.Values;

    public ZipEntry? Get(string name) => _entries.GetValueOrDefault(name);

    /// <summary>Reads and checks the directory of <paramref name="file"/>; throws <see cref="DataFormatException"/>.</summary>
    public static ZipDirectory Read(string path, FileStream file)
    {
        var zip = new ZipDirectory(path, file);
        try
        {
            var (count, offset, size) = zip.FindDirectory();
            zip.ReadDirectory(count, offset, size);
        }
        catch (OverflowException e)
        {
            throw new DataFormatException(path, "zip: a size or offset overflows 64-bit arithmetic", e);
        }
        return zip;
    }

    /// <summary>
    /// The entry's bytes: it must hold exactly <paramref name="expectedSize"/> bytes (any size up to
    /// <paramref name="maxSize"/> when null), decompress to no more and match its CRC-32.
    /// </summary>
    public byte[] ReadEntry(ZipEntry entry, long? expectedSize, long maxSize)
    {
        if (expectedSize is { } expected && entry.Size != expected)
            throw Error($"zip entry '{entry.Name}': holds {entry.Size} bytes; expected {expected}");
        if (entry.Size > maxSize || entry.Size > Array.MaxLength)
            throw Error($"zip entry '{entry.Name}': holds {entry.Size} bytes; expected at most {Math.Min(maxSize, Array.MaxLength)}");
        var data = new byte[entry.Size];
        if (entry.Method == 0)
        {
            ReadAt(entry.DataOffset, data);
        }
        else
        {
            var compressed = new byte[entry.CompressedSize];
            ReadAt(entry.DataOffset, compressed);
            try
            {
                using var inflate = new DeflateStream(new MemoryStream(compressed), CompressionMode.Decompress);
                int filled = inflate.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
                if (filled < data.Length)
                    throw Error($"zip entry '{entry.Name}': inflates to {filled} bytes; its header says {entry.Size}");
                if (inflate.Read(new byte[1]) > 0)
                    throw Error($"zip entry '{entry.Name}': inflates past the {entry.Size} bytes its header says (a zip bomb?)");
            }
            catch (InvalidDataException e)
            {
                throw Error($"zip entry '{entry.Name}': damaged deflate data ({TextChecks.OneLine(e.Message)})");
            }
        }
        if (Crc32.HashToUInt32(data) != entry.Crc)
            throw Error($"zip entry '{entry.Name}': CRC-32 {Crc32.HashToUInt32(data):x8} does not match the directory's {entry.Crc:x8} (damaged file?)");
        return data;
    }

    private DataFormatException Error(string detail) => new(_path, detail);

    private void ReadAt(long offset, Span<byte> buffer)
    {
        _file.Position = offset;
        int n = _file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (n < buffer.Length)
            throw Error($"zip: the file ends at byte {offset + n}, inside {buffer.Length} bytes at offset {offset}; truncated file?");
    }

    /// <summary>The end record (searched in the last 64 KiB + 22 bytes), and the zip64 one when it says so.</summary>
    private (long Count, long Offset, long Size) FindDirectory()
    {
        long length = _file.Length;
        int tail = (int)Math.Min(length, 22 + 0xFFFF);
        var bytes = new byte[tail];
        ReadAt(length - tail, bytes);
        int at = -1;
        for (int i = tail - 22; i >= 0 && at < 0; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i)) == EndSignature)
                at = i;
        }
        if (at < 0)
            throw Error("zip: no end-of-central-directory record in the last 64 KiB (truncated or not a zip file?)");
        long endOffset = length - tail + at;
        var end = bytes.AsSpan(at);
        long count = BinaryPrimitives.ReadUInt16LittleEndian(end[10..]);
        long size = BinaryPrimitives.ReadUInt32LittleEndian(end[12..]);
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(end[16..]);
        if (BinaryPrimitives.ReadUInt16LittleEndian(end[4..]) != 0 || BinaryPrimitives.ReadUInt16LittleEndian(end[6..]) != 0)
            throw Error("zip: a multi-disk archive; expected one file");
        if (count == 0xFFFF || size == 0xFFFFFFFF || offset == 0xFFFFFFFF)
            (count, offset, size, endOffset) = Zip64End(endOffset);
        if (count > ReaderLimits.MaxZipEntries)
            throw Error($"zip: {count} entries declared; expected at most {ReaderLimits.MaxZipEntries}");
        if (size > ReaderLimits.MaxZipDirectoryBytes || offset < 0 || size < 0 || checked(offset + size) > endOffset || size < checked(46 * count))
            throw Error($"zip: central directory of {size} bytes at offset {offset} for {count} entries does not fit before byte {endOffset} (or is over {ReaderLimits.MaxZipDirectoryBytes} bytes)");
        return (count, offset, size);
    }

    private (long Count, long Offset, long Size, long EndOffset) Zip64End(long endOffset)
    {
        if (endOffset < 20)
            throw Error("zip: zip64 sizes without a zip64 locator");
        var locator = new byte[20];
        ReadAt(endOffset - 20, locator);
        if (BinaryPrimitives.ReadUInt32LittleEndian(locator) != Locator64Signature)
            throw Error($"zip: zip64 sizes without a zip64 locator at offset {endOffset - 20}");
        ulong recordOffset = BinaryPrimitives.ReadUInt64LittleEndian(locator.AsSpan(8));
        if (recordOffset > (ulong)(endOffset - 20 - 56))
            throw Error($"zip: the zip64 end record at offset {recordOffset} does not fit before byte {endOffset - 20}");
        var record = new byte[56];
        ReadAt((long)recordOffset, record);
        if (BinaryPrimitives.ReadUInt32LittleEndian(record) != End64Signature)
            throw Error($"zip: no zip64 end record at offset {recordOffset}");
        ulong count = BinaryPrimitives.ReadUInt64LittleEndian(record.AsSpan(32));
        ulong size = BinaryPrimitives.ReadUInt64LittleEndian(record.AsSpan(40));
        ulong offset = BinaryPrimitives.ReadUInt64LittleEndian(record.AsSpan(48));
        if (count > ReaderLimits.MaxZipEntries || size > (ulong)recordOffset || offset > (ulong)recordOffset)
            throw Error($"zip: zip64 directory of {size} bytes at offset {offset} for {count} entries does not fit before byte {recordOffset}");
        return ((long)count, (long)offset, (long)size, (long)recordOffset);
    }

    private void ReadDirectory(long count, long offset, long size)
    {
        var directory = new byte[size];
        ReadAt(offset, directory);
        int at = 0;
        for (long i = 0; i < count; i++)
        {
            if (at + 46 > directory.Length || BinaryPrimitives.ReadUInt32LittleEndian(directory.AsSpan(at)) != CentralSignature)
                throw Error($"zip: central directory entry {i} at offset {offset + at}: no entry signature (damaged directory?)");
            var header = directory.AsSpan(at);
            int flags = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
            int method = BinaryPrimitives.ReadUInt16LittleEndian(header[10..]);
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(header[16..]);
            long compressed = BinaryPrimitives.ReadUInt32LittleEndian(header[20..]);
            long uncompressed = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header[30..]);
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(header[32..]);
            long local = BinaryPrimitives.ReadUInt32LittleEndian(header[42..]);
            int next = at + 46 + nameLength + extraLength + commentLength;
            if (next > directory.Length)
                throw Error($"zip: central directory entry {i} runs past the directory's {size} bytes");
            var name = Encoding.UTF8.GetString(header.Slice(46, nameLength));
            if (!TextChecks.IsPrintable(name))
                throw Error($"zip: central directory entry {i}: the name has control characters or is over {TextChecks.MaxNameLength} characters");
            Zip64Fields(header.Slice(46 + nameLength, extraLength), ref uncompressed, ref compressed, ref local);
            if ((flags & 1) != 0)
                throw Error($"zip entry '{name}': encrypted; expected a plain entry");
            if (method is not (0 or 8))
                throw Error($"zip entry '{name}': compression method {method}; expected 0 (stored) or 8 (deflate)");
            if (method == 0 && compressed != uncompressed)
                throw Error($"zip entry '{name}': stored, but {compressed} bytes stored for {uncompressed}");
            long data = LocalData(name, local, offset);
            if (checked(data + compressed) > offset)
                throw Error($"zip entry '{name}': {compressed} bytes at offset {data} run past the central directory at {offset}");
            if (!_entries.TryAdd(name, new ZipEntry(name, method, compressed, uncompressed, crc, data)))
                throw Error($"zip entry '{name}': given twice");
            at = next;
        }
    }

    /// <summary>Replaces the 32-bit fields that say 0xFFFFFFFF by those of the zip64 extra field, in order.</summary>
    private void Zip64Fields(ReadOnlySpan<byte> extra, ref long uncompressed, ref long compressed, ref long local)
    {
        while (extra.Length >= 4)
        {
            int id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            int length = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (length > extra.Length - 4)
                throw Error("zip: an extra field runs past its entry");
            var field = extra.Slice(4, length);
            if (id == 1)
            {
                int at = 0;
                Take(field, ref at, ref uncompressed);
                Take(field, ref at, ref compressed);
                Take(field, ref at, ref local);
            }
            extra = extra[(4 + length)..];
        }
    }

    private void Take(ReadOnlySpan<byte> field, ref int at, ref long value)
    {
        if (value != 0xFFFFFFFF)
            return;
        if (at + 8 > field.Length)
            throw Error("zip: a zip64 extra field is shorter than the sizes it replaces");
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(field[at..]);
        if (v > long.MaxValue)
            throw Error($"zip: a zip64 size or offset of {v} bytes");
        value = (long)v;
        at += 8;
    }

    /// <summary>Checks the local header of an entry against its central entry; returns where its data starts.</summary>
    private long LocalData(string name, long local, long directoryOffset)
    {
        if (checked(local + 30) > directoryOffset)
            throw Error($"zip entry '{name}': local header at offset {local} is not before the central directory at {directoryOffset}");
        var header = new byte[30];
        ReadAt(local, header);
        if (BinaryPrimitives.ReadUInt32LittleEndian(header) != LocalSignature)
            throw Error($"zip entry '{name}': no local header signature at offset {local}");
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(26));
        int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(28));
        if (checked(local + 30 + nameLength) > directoryOffset)
            throw Error($"zip entry '{name}': local header at offset {local} runs into the central directory");
        var localName = new byte[nameLength];
        ReadAt(local + 30, localName);
        if (Encoding.UTF8.GetString(localName) != name)
            throw Error($"zip entry '{name}': the local header at offset {local} names another entry");
        return local + 30 + nameLength + extraLength;
    }
}
