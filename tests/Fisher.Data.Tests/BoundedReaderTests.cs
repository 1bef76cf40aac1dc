using Xunit;
using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;

namespace Fisher.Data.Tests;

/// <summary>Issue 13 item 4: sizes read from files are checked before anything is allocated (docs/security.md, "Bounded readers").</summary>
public sealed class BoundedReaderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("fisher-bounded-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string File(string name, byte[] bytes)
    {
        var path = Path.Combine(_folder, name);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void AnExpandedTensorMadeByTorchIsReadAsItsView()
    {
        var state = ModelLoader.ReadStateDict(Support.Fixture("tiny_expanded.pt"));
        Assert.Equal([5L], state["0.bias"].Shape);
        Assert.Equal(Enumerable.Repeat(0.25, 5), state["0.bias"].Data);
        Assert.Equal(ModelLoader.ReadStateDict(Support.Fixture("tiny.pt"))["0.weight"].Data, state["0.weight"].Data);
        using var network = ModelLoader.Load(ModelArchitecture.Read(Support.Fixture("tiny_arch.json")), Support.Fixture("tiny_expanded.pt"));
    }

    [Fact]
    public void AnExpandedTensorOfTwoToTheFortyElementsIsRefusedFromItsHeaderAlone()
    {
        var path = Support.Fixture("tiny_expanded_huge.pt");
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataFormatException>(() => ModelLoader.ReadStateDict(path));
        Assert.Equal($"{path}: the tensors' shapes hold {(1L << 40) + 30 + 20 + 4 + 12 + 3} elements; expected at most {ReaderLimits.MaxParameters}", e.Message);
        var mismatch = Assert.ThrowsAny<DataFormatException>(() => ModelLoader.Load(ModelArchitecture.Read(Support.Fixture("tiny_arch.json")), path));
        Assert.Contains("0.bias: file has [1048576, 1048576], architecture expects [5]", mismatch.Message, StringComparison.Ordinal);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "the logical size was allocated");
    }

    [Fact]
    public void NonRegularFilesAreRefusedWithoutReadingThem()
    {
        var fifo = Path.Combine(_folder, "fifo");
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
            mkfifo.WaitForExit();
        var clock = Stopwatch.StartNew();
        foreach (var open in new Action<string>[] { p => Dataset.Open(p), p => ModelLoader.ReadStateDict(p), p => ModelArchitecture.Read(p) })
        {
            foreach (var path in new[] { fifo, "/dev/zero", "/proc/self/status" })
            {
                var e = Assert.Throws<DataFormatException>(() => open(path));
                Assert.Equal($"{path}: size 0: the file is empty or not a regular file (a FIFO, device or /proc file); expected a regular file with content", e.Message);
            }
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10)); // nothing blocked on the FIFO
    }

    [Fact]
    public void AnArchitectureFileIsReadUpToItsCap()
    {
        var good = System.IO.File.ReadAllText(Support.Fixture("tiny_arch.json"));
        var padded = File("padded.json", Encoding.UTF8.GetBytes(good + new string(' ', ReaderLimits.MaxArchitectureBytes - good.Length)));
        Assert.Equal(ModelArchitecture.Read(Support.Fixture("tiny_arch.json")), ModelArchitecture.Read(padded));
        var over = File("over.json", Encoding.UTF8.GetBytes(good + new string(' ', ReaderLimits.MaxArchitectureBytes - good.Length + 1)));
        var e = Assert.Throws<DataFormatException>(() => ModelArchitecture.Read(over));
        Assert.Equal($"{over}: the file is over {ReaderLimits.MaxArchitectureBytes} bytes; expected a small architecture JSON", e.Message);
    }

    [Fact]
    public void ErrorsEchoNoFileContentAndStayOnOneLine()
    {
        var secret = File("secret.txt", Encoding.ASCII.GetBytes("root:$6$hash:19000:0:99999:7:::\n"));
        foreach (var open in new Action<string>[] { p => Dataset.Open(p), p => ModelLoader.ReadStateDict(p), p => ModelArchitecture.Read(p) })
        {
            var e = Assert.ThrowsAny<DataFormatException>(() => open(secret));
            Assert.DoesNotContain("root", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("726F6F74", e.Message, StringComparison.Ordinal); // nor as hex
            Assert.DoesNotContain('\n', e.Message);
        }
    }

    [Theory]
    [InlineData(new uint[] { 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF }, "overflows a 64-bit byte count")]
    [InlineData(new uint[] { 0x7FFFFFFF, 28, 28 }, "truncated file?")]
    public void IdxDimensionsAreCheckedWithCheckedArithmetic(uint[] dims, string expected)
    {
        var bytes = new byte[4 + 4 * dims.Length + 16];
        bytes[2] = 0x0E;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++)
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        var plain = File("x.idx", bytes);
        Assert.Contains(expected, Assert.Throws<DataFormatException>(() => Dataset.Open(plain)).Message, StringComparison.Ordinal);
        using var m = new MemoryStream();
        using (var gz = new GZipStream(m, CompressionLevel.Fastest, leaveOpen: true))
            gz.Write(bytes);
        var compressed = File("x.idx.gz", m.ToArray());
        var e = Assert.Throws<DataFormatException>(() => Dataset.Open(compressed)); // never a job of 2^31 rows
        Assert.StartsWith($"{compressed}: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AGzipFileMustMatchItsTrailer()
    {
        var rows = new byte[12 + 100 * 4]; // IDX: 00 00 08 02, 2 dims, 100 rows of 4 bytes
        rows[2] = 0x08;
        rows[3] = 2;
        BinaryPrimitives.WriteUInt32BigEndian(rows.AsSpan(4), 100);
        BinaryPrimitives.WriteUInt32BigEndian(rows.AsSpan(8), 4);
        new Random(3).NextBytes(rows.AsSpan(12));
        using var m = new MemoryStream();
        using (var gz = new GZipStream(m, CompressionLevel.Fastest, leaveOpen: true))
            gz.Write(rows);
        var good = m.ToArray();
        using (var d = Dataset.Open(File("good.idx.gz", good)))
            Assert.Equal(100, d.Rows);
        var crc = (byte[])good.Clone();
        crc[^8] ^= 1;
        Assert.Contains("CRC-32", Assert.Throws<DataFormatException>(() => Dataset.Open(File("crc.idx.gz", crc))).Message, StringComparison.Ordinal);
        var isize = (byte[])good.Clone();
        isize[^4] ^= 1;
        Assert.Contains("gzip", Assert.Throws<DataFormatException>(() => Dataset.Open(File("isize.idx.gz", isize))).Message, StringComparison.Ordinal);
        var copies = new DecompressedCopies(Path.Combine(_folder, "cache"), DecompressedCopies.DefaultKeepCopiesFor);
        Assert.Null(copies.TryGet(Path.Combine(_folder, "crc.idx.gz"), rows.Length)); // no unverified copy is kept
        Assert.NotNull(copies.TryGet(Path.Combine(_folder, "good.idx.gz"), rows.Length));
        Assert.Single(Directory.GetFiles(Path.Combine(_folder, "cache")));
    }
}
