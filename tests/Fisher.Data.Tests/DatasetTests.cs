using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Xunit;

namespace Fisher.Data.Tests;

public sealed class DatasetTests
{
    private static double[] ImageValues() => Enumerable.Range(0, 60).Select(i => (double)(i * 37 % 256)).ToArray();

    private static double[] ReadInputs(Dataset d, long start, int count)
    {
        var values = new double[count * d.Features];
        d.ReadInputs(start, count, values);
        return values;
    }

    private static double[] ReadLabels(Dataset d, long start, int count)
    {
        var values = new double[count * d.LabelColumns];
        d.ReadLabels(start, count, values);
        return values;
    }

    /// <summary>An IDX file of unsigned bytes with the given dims (first = rows), optionally gzipped.</summary>
    private static void WriteIdx(string path, int[] dims, byte[] data, bool gzip)
    {
        using var file = File.Create(path);
        using Stream target = gzip ? new GZipStream(file, CompressionLevel.Fastest) : file;
        target.Write([0, 0, 0x08, (byte)dims.Length]);
        Span<byte> d = stackalloc byte[4];
        foreach (var dim in dims)
        {
            BinaryPrimitives.WriteInt32BigEndian(d, dim);
            target.Write(d);
        }
        target.Write(data);
    }

    /// <summary>An NPY file of any version with a hand-written header dict.</summary>
    internal static void WriteNpy(string path, int major, string dict, byte[] data)
    {
        int prefix = major == 1 ? 10 : 12;
        var header = dict;
        while ((prefix + Encoding.UTF8.GetByteCount(header) + 1) % 64 != 0)
            header += " ";
        header += "\n";
        var h = Encoding.UTF8.GetBytes(header);
        using var file = File.Create(path);
        file.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0]);
        Span<byte> length = stackalloc byte[4];
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)h.Length);
            file.Write(length[..2]);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)h.Length);
            file.Write(length);
        }
        file.Write(h);
        file.Write(data);
    }

    [Fact]
    public void IdxPlainGzipAndNpyGiveTheSameRows()
    {
        using var plain = Dataset.Open(Support.Fixture("images.idx3-ubyte"), Support.Fixture("labels.idx1-ubyte"));
        using var gz = Dataset.Open(Support.Fixture("images.idx3-ubyte.gz"));
        using var npy = Dataset.Open(Support.Fixture("images.npy"));
        foreach (var d in new[] { plain, gz, npy })
        {
            Assert.Equal(5, d.Rows);
            Assert.Equal(12, d.Features);
            Assert.Equal(ImageValues(), ReadInputs(d, 0, 5));
        }
        Assert.True(plain.HasLabels);
        Assert.False(gz.HasLabels);
        Assert.Equal(1, plain.LabelColumns);
        Assert.Equal(0, gz.LabelColumns);
        Assert.Equal([3.0, 1, 4, 1, 5], ReadLabels(plain, 0, 5));
        Assert.Equal(Support.Fixture("labels.idx1-ubyte"), plain.LabelsPath);
        Assert.Null(gz.LabelsPath);
        Assert.Equal(Support.Fixture("images.idx3-ubyte.gz"), gz.InputsPath);
    }

    [Fact]
    public void RangesInTheMiddle()
    {
        using var plain = Dataset.Open(Support.Fixture("images.idx3-ubyte"), Support.Fixture("labels.idx1-ubyte"));
        using var gz = Dataset.Open(Support.Fixture("images.idx3-ubyte.gz"));
        var all = ImageValues();
        Assert.Equal(all[24..48], ReadInputs(plain, 2, 2));
        Assert.Equal(all[24..48], ReadInputs(gz, 2, 2));
        Assert.Equal(all[12..24], ReadInputs(gz, 1, 1)); // backwards: restarts, same values
        Assert.Equal(all[48..60], ReadInputs(gz, 4, 1));
        Assert.Empty(ReadInputs(plain, 5, 0));
        Assert.Equal([4.0, 1], ReadLabels(plain, 2, 2));
    }

    [Theory]
    [InlineData(-1L, 1)]
    [InlineData(0L, -1)]
    [InlineData(4L, 2)]
    [InlineData(6L, 0)]
    [InlineData(long.MaxValue, 1)]
    public void OutOfRangeRowsNameStartCountAndRows(long start, int count)
    {
        using var d = Dataset.Open(Support.Fixture("images.idx3-ubyte"), Support.Fixture("labels.idx1-ubyte"));
        var buffer = new double[100];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => d.ReadInputs(start, count, buffer));
        Assert.Contains($"start {start}", e.Message);
        Assert.Contains($"count {count}", e.Message);
        Assert.Contains("5 rows", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => d.ReadLabels(start, count, buffer));
    }

    [Fact]
    public void ShortDestinationAndMissingLabelsAreRefused()
    {
        using var d = Dataset.Open(Support.Fixture("images.idx3-ubyte"));
        Assert.Throws<ArgumentException>(() => d.ReadInputs(0, 2, new double[23]));
        Assert.Throws<InvalidOperationException>(() => d.ReadLabels(0, 1, new double[1]));
    }

    [Fact]
    public void MismatchedRowCountsNameBothFilesAndCounts()
    {
        var inputs = Support.Fixture("tiny_input.npy");
        var labels = Support.Fixture("labels.idx1-ubyte");
        var e = Assert.Throws<DataFormatException>(() => Dataset.Open(inputs, labels));
        Assert.Equal(labels, e.Path);
        Assert.Contains(inputs, e.Message);
        Assert.Contains("5 rows", e.Message);
        Assert.Contains("have 8", e.Message);
    }

    [Fact]
    public void NpyFloat32AndFloat64InputsWithIntegerAndFloatLabels()
    {
        using var f4 = Dataset.Open(Support.Fixture("tiny_input.npy"), Support.Fixture("tiny_labels.npy"));
        using var f8 = Dataset.Open(Support.Fixture("tiny_input64.npy"), Support.Fixture("tiny_labels_f8.npy"));
        using var i4 = Dataset.Open(Support.Fixture("tiny_input.npy"), Support.Fixture("tiny_labels_i4_2d.npy"));
        using var onehot = Dataset.Open(Support.Fixture("tiny_input.npy"), Support.Fixture("tiny_labels_onehot.npy"));
        Assert.Equal((8L, 6), (f4.Rows, f4.Features));
        Assert.Equal((8L, 6), (f8.Rows, f8.Features));
        Assert.Equal(ReadInputs(f8, 0, 8), ReadInputs(f4, 0, 8)); // the float64 file holds the float32 values widened
        Assert.Contains(ReadInputs(f8, 0, 8), v => v != Math.Round(v));

        var labels = ReadLabels(f4, 0, 8);
        Assert.All(labels, v => Assert.InRange(v, 0, 2));
        Assert.Equal(labels, ReadLabels(f8, 0, 8));
        Assert.Equal(1, i4.LabelColumns);
        Assert.Equal(labels, ReadLabels(i4, 0, 8));
        Assert.Equal(3, onehot.LabelColumns);
        var hot = ReadLabels(onehot, 3, 5);
        for (int r = 0; r < 5; r++)
        {
            for (int c = 0; c < 3; c++)
                Assert.Equal(c == labels[3 + r] ? 1.0 : 0.0, hot[3 * r + c]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void NpyHeaderVersions(int major)
    {
        using var temp = new TempFolder();
        var path = temp.File($"v{major}.npy");
        var data = new byte[3 * 2 * 8];
        for (int i = 0; i < 6; i++)
            BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8 * i), i - 2.5);
        WriteNpy(path, major, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", data);
        using var d = Dataset.Open(path);
        Assert.Equal((3L, 2), (d.Rows, d.Features));
        Assert.Equal([-0.5, 0.5, 1.5, 2.5], ReadInputs(d, 1, 2));
    }

    [Fact]
    public void FortranOrderIsRefused()
    {
        var path = Support.Fixture("fortran.npy");
        var e = Assert.Throws<DataFormatException>(() => Dataset.Open(path));
        Assert.Equal(path, e.Path);
        Assert.StartsWith($"{path}: header: fortran_order is True", e.Message);
    }

    [Fact]
    public void IntegerNpyInputsAreRefusedNamingTheDtype()
    {
        var path = Support.Fixture("tiny_labels.npy");
        var e = Assert.Throws<DataFormatException>(() => Dataset.Open(path));
        Assert.Equal($"{path}: header: expected dtype '<f4' or '<f8' for inputs, got '<i8'", e.Message);
    }

    [Fact]
    public void BadLabelDtypeAndShapeAreRefused()
    {
        using var temp = new TempFolder();
        var boolean = temp.File("bool.npy");
        WriteNpy(boolean, 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (8,), }", new byte[8]);
        var e = Assert.Throws<DataFormatException>(() => Dataset.Open(Support.Fixture("tiny_input.npy"), boolean));
        Assert.Equal(boolean, e.Path);
        Assert.Contains("an unsupported dtype", e.Message); // an unknown dtype is file content: not echoed

        var cube = temp.File("cube.npy");
        WriteNpy(cube, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (8, 1, 1), }", new byte[64]);
        e = Assert.Throws<DataFormatException>(() => Dataset.Open(Support.Fixture("tiny_input.npy"), cube));
        Assert.Contains("(N) or (N, C)", e.Message);
    }

    [Fact]
    public void BigEndianIdxTypes()
    {
        using var s = Dataset.Open(Support.Fixture("short.idx"));
        Assert.Equal((2L, 2), (s.Rows, s.Features));
        Assert.Equal([-300.0, 2, 7, 32000], ReadInputs(s, 0, 2));
        using var d = Dataset.Open(Support.Fixture("double.idx"));
        Assert.Equal([0.5, -1.25, 3e-300], ReadInputs(d, 0, 1));
    }

    [Fact]
    public void TruncatedPlainFileNamesTheRow()
    {
        using var temp = new TempFolder();
        var path = temp.File("cut.npy");
        var bytes = File.ReadAllBytes(Support.Fixture("tiny_input.npy"));
        File.WriteAllBytes(path, bytes[..(128 + 3 * 24 + 10)]); // header 128 bytes, rows of 6 float32
        var e = Assert.Throws<DataFormatException>(() => Dataset.Open(path));
        Assert.Equal(path, e.Path);
        Assert.StartsWith($"{path}: row 3:", e.Message);

        var idx = temp.File("cut.idx");
        File.WriteAllBytes(idx, File.ReadAllBytes(Support.Fixture("images.idx3-ubyte"))[..(16 + 12 * 4 + 1)]);
        e = Assert.Throws<DataFormatException>(() => Dataset.Open(idx));
        Assert.StartsWith($"{idx}: row 4:", e.Message);

        var header = temp.File("header.npy");
        File.WriteAllBytes(header, bytes[..40]);
        e = Assert.Throws<DataFormatException>(() => Dataset.Open(header));
        Assert.StartsWith($"{header}: offset", e.Message);
        Assert.Contains("NPY header", e.Message);
    }

    [Fact]
    public void TruncatedGzipFileIsRefusedWhenOpened()
    {
        using var temp = new TempFolder();
        var path = temp.File("cut.idx.gz");
        WriteIdx(path, [10, 4], new byte[4 * 7 + 2], gzip: true); // header says 10 rows, data has 7.5
        var e = Assert.Throws<DataFormatException>(() => Dataset.Open(path));
        Assert.Equal(path, e.Path);
        Assert.Equal($"{path}: gzip: decompresses to 42 bytes, but its header promises 52; truncated file?", e.Message);

        // Compressed bytes cut short: an error naming the file, never garbage rows.
        var raw = temp.File("raw.idx.gz");
        var data = new byte[4000];
        new Random(1).NextBytes(data);
        WriteIdx(raw, [1000, 4], data, gzip: true);
        var cut = temp.File("cutraw.idx.gz");
        var compressed = File.ReadAllBytes(raw);
        File.WriteAllBytes(cut, compressed[..(compressed.Length / 2)]);
        var error = Assert.Throws<DataFormatException>(() => Dataset.Open(cut));
        Assert.StartsWith($"{cut}: gzip: ", error.Message);
    }

    [Fact]
    public void SequentialGzipBatchesNeverRescan()
    {
        using var temp = new TempFolder();
        var path = temp.File("big.idx.gz");
        const int rows = 100 * 32, features = 50;
        var data = new byte[rows * features];
        for (int i = 0; i < data.Length; i++)
            data[i] = (byte)(i * 7 % 251);
        WriteIdx(path, [rows, 5, 10], data, gzip: true);
        using var d = Dataset.Open(path);
        var batch = new double[32 * features];
        for (int b = 0; b < 100; b++)
        {
            d.ReadInputs(b * 32L, 32, batch);
            Assert.Equal(data[(b * 32 * features)..((b + 1) * 32 * features)].Select(v => (double)v), batch);
        }
        Assert.Equal(0, d.Restarts);
        Assert.Equal(16 + data.Length, d.InputBytesDecompressed); // every byte decompressed exactly once

        // Skipping forward does not restart either; only a backward read does.
        using var skip = Dataset.Open(path);
        for (int b = 0; b < 100; b += 3)
            skip.ReadInputs(b * 32L, 32, batch);
        Assert.Equal(0, skip.Restarts);
        skip.ReadInputs(0, 32, batch);
        Assert.Equal(1, skip.Restarts);
        Assert.Equal(data[..(32 * features)].Select(v => (double)v), batch);
    }

    [Fact]
    public void FarReadsOfALargeGzipFileUseOnePlainCopy()
    {
        using var temp = new TempFolder();
        var cache = temp.File("cache");
        var copies = new DecompressedCopies(cache, keepCopiesFor: TimeSpan.FromDays(7));
        var path = temp.File("large.idx.gz");
        const int rows = 12_000, features = 500; // 6 MB decompressed
        var data = new byte[rows * features];
        for (int i = 0; i < data.Length; i++)
            data[i] = (byte)(i * 13 % 251);
        WriteIdx(path, [rows, features], data, gzip: true);
        var batch = new double[10 * features];
        double[] Rows(int first) => data[(first * features)..((first + 10) * features)].Select(v => (double)v).ToArray();

        // Sequential reads stream as before.
        using (var sequential = Dataset.Open(path, null, copies))
        {
            for (int first = 0; first < 2000; first += 10)
                sequential.ReadInputs(first, 10, batch);
            Assert.False(sequential.InputsUseCopy);
            Assert.False(Directory.Exists(cache)); // nothing made for sequential reads
        }

        // A shard that starts 5.5 MB in reads a plain copy, made once; going back then needs no restart. Making it
        // removes a copy older than a week and a temporary file a crashed process left, and nothing else.
        Directory.CreateDirectory(cache);
        var old = Path.Combine(cache, "0123456789ABCDEF0123456789ABCDEF.raw");
        var leftover = Path.Combine(cache, "0123456789ABCDEF0123456789ABCDEF.raw.1.abc.tmp");
        var recent = Path.Combine(cache, "FEDCBA9876543210FEDCBA9876543210.raw");
        foreach (var file in new[] { old, leftover, recent })
            File.WriteAllBytes(file, [1, 2, 3]);
        File.SetLastWriteTimeUtc(old, DateTime.UtcNow.AddDays(-8));
        File.SetLastWriteTimeUtc(leftover, DateTime.UtcNow.AddDays(-2));
        using var far = Dataset.Open(path, null, copies);
        far.ReadInputs(11_000, 10, batch);
        Assert.True(far.InputsUseCopy);
        Assert.Equal(Rows(11_000), batch);
        far.ReadInputs(0, 10, batch);
        Assert.Equal(Rows(0), batch);
        Assert.Equal(0, far.Restarts);
        Assert.Equal(12, far.InputBytesDecompressed); // the 12-byte header only: no row was decompressed in place
        Assert.False(File.Exists(old));
        Assert.False(File.Exists(leftover));
        Assert.True(File.Exists(recent));
        File.Delete(recent);
        var copy = Assert.Single(Directory.GetFiles(cache));
        Assert.Equal(12 + data.Length, new FileInfo(copy).Length);
        using (var another = Dataset.Open(path, null, copies))
        {
            another.ReadInputs(9_000, 10, batch); // 4.5 MB in
            Assert.True(another.InputsUseCopy);
            Assert.Equal(Rows(9_000), batch);
            Assert.Single(Directory.GetFiles(cache)); // the same copy
        }

        // A copy removed meanwhile (another process's clean-up) is made again.
        File.Delete(copy);
        using (var again = Dataset.Open(path, null, copies))
        {
            again.ReadInputs(10_000, 10, batch);
            Assert.True(again.InputsUseCopy);
            Assert.Equal(Rows(10_000), batch);
            Assert.True(File.Exists(copy));
        }

        // A folder other users can write to is not trusted: no copy, the rows are decompressed in place.
        if (!OperatingSystem.IsWindows())
        {
            var shared = temp.File("shared");
            Directory.CreateDirectory(shared);
            File.SetUnixFileMode(shared, (UnixFileMode)0x1FF); // rwxrwxrwx
            using var untrusted = Dataset.Open(path, null, new DecompressedCopies(shared, DecompressedCopies.DefaultKeepCopiesFor));
            untrusted.ReadInputs(11_000, 10, batch);
            Assert.False(untrusted.InputsUseCopy);
            Assert.Equal(Rows(11_000), batch);
            Assert.Empty(Directory.GetFiles(shared));
        }

        // A damaged large file is refused when opened, and gets no copy.
        var cut = temp.File("cut.idx.gz");
        var compressed = File.ReadAllBytes(path);
        File.WriteAllBytes(cut, compressed[..(compressed.Length / 2)]);
        var e = Assert.Throws<DataFormatException>(() => Dataset.Open(cut, null, copies));
        Assert.StartsWith($"{cut}: gzip: ", e.Message);
        Assert.Single(Directory.GetFiles(cache));
        Assert.Null(copies.TryGet(cut, 12 + 12_000L * 500)); // and DecompressedCopies keeps no unverified copy
        Assert.Single(Directory.GetFiles(cache));
    }

    [Fact]
    public void GzippedNpyAndNotAnArrayFile()
    {
        using var temp = new TempFolder();
        var gz = temp.File("input.npy.gz");
        using (var file = File.Create(gz))
        using (var zip = new GZipStream(file, CompressionLevel.Fastest))
            zip.Write(File.ReadAllBytes(Support.Fixture("tiny_input.npy")));
        using (var d = Dataset.Open(gz))
            Assert.Equal(Support.ReadAll(Support.Fixture("tiny_input.npy")), ReadInputs(d, 0, 8));

        var text = temp.File("notes.txt");
        File.WriteAllText(text, "hello, world");
        var e = Assert.Throws<DataFormatException>(() => Dataset.Open(text));
        Assert.StartsWith($"{text}: offset 0: expected an IDX file", e.Message);
    }
}
