using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.IO.Compression;
using System.IO.Hashing;

namespace Fisher.Data;

/// <summary>
/// Bounds and verifies a gzip array file before any row of it is used: what its header promises must be plausible for
/// its compressed size (<see cref="ReaderLimits.MaxGzipRatio"/>), it must decompress to exactly that many bytes (the
/// decompression stops one byte past the promise, so a bomb costs no more than the promise), and the CRC-32 and length
/// of the decompressed data must match the gzip trailer. One gzip member only. A file is verified once per process
/// and content (path, length, write time).
/// </summary>
internal static class GzipCheck
{
    private static readonly ConcurrentDictionary<string, bool> Verified = new(StringComparer.Ordinal);

    /// <summary>Verifies <paramref name="path"/> unless this process already has; throws <see cref="DataFormatException"/>.</summary>
    public static void Verify(string path, long promisedBytes)
    {
        var key = $"{RegularFile.IdentityKey(path)}|{promisedBytes}";
        if (Verified.ContainsKey(key))
            return;
        using var file = RegularFile.OpenRead(path);
        Decompress(path, file, promisedBytes, copyTo: null);
        Verified[key] = true;
    }

    /// <summary>Refuses a promise larger than <see cref="ReaderLimits.MaxGzipRatio"/> times the compressed size (and over <see cref="ReaderLimits.GzipRatioFreeBytes"/>).</summary>
    public static void CheckRatio(string path, long compressedBytes, long promisedBytes)
    {
        if (promisedBytes > ReaderLimits.GzipRatioFreeBytes && promisedBytes / ReaderLimits.MaxGzipRatio > compressedBytes)
            throw new DataFormatException(path, $"gzip: the header promises {promisedBytes} decompressed bytes from {compressedBytes} compressed ones; expected at most {ReaderLimits.MaxGzipRatio} times the compressed size (a gzip bomb?)");
    }

    /// <summary>
    /// Decompresses all of <paramref name="file"/> (from its start) into <paramref name="copyTo"/> (or nowhere) and
    /// checks that it holds exactly <paramref name="promisedBytes"/> bytes that match the trailer.
    /// </summary>
    public static void Decompress(string path, FileStream file, long promisedBytes, Stream? copyTo)
    {
        long length = file.Length;
        if (length < 18)
            throw new DataFormatException(path, $"gzip: the file has {length} bytes, fewer than a gzip header and trailer (18)");
        CheckRatio(path, length, promisedBytes);
        Span<byte> trailer = stackalloc byte[8];
        file.Position = length - 8;
        file.ReadExactly(trailer);
        file.Position = 0;
        uint trailerCrc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        uint trailerSize = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);

        var crc = new Crc32();
        long total = 0;
        var buffer = new byte[1 << 16];
        using (var gzip = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true))
        {
            try
            {
                int n;
                // Never ask for more than one byte past the promise.
                while ((n = gzip.Read(buffer, 0, (int)Math.Min(buffer.Length, promisedBytes + 1 - total))) > 0)
                {
                    total += n;
                    if (total > promisedBytes)
                        throw new DataFormatException(path, $"gzip: decompresses past the {promisedBytes} bytes its header promises (a gzip bomb, or a lying header?)");
                    crc.Append(buffer.AsSpan(0, n));
                    copyTo?.Write(buffer, 0, n);
                }
            }
            catch (InvalidDataException e)
            {
                // The decompressor checks each member's trailer too; its message for a bad one names no CRC.
                throw new DataFormatException(path, $"gzip: damaged data, or a CRC-32 or length that does not match the trailer, after {total} decompressed bytes", e);
            }
        }
        if (total != promisedBytes)
            throw new DataFormatException(path, $"gzip: decompresses to {total} bytes, but its header promises {promisedBytes}; truncated file?");
        uint actual = crc.GetCurrentHashAsUInt32();
        if (actual != trailerCrc || (uint)total != trailerSize)
            throw new DataFormatException(path, $"gzip trailer: expected CRC-32 {actual:x8} and length {(uint)total} (of the decompressed data), got {trailerCrc:x8} and {trailerSize}: a damaged file, or several gzip members (not supported)");
    }
}
