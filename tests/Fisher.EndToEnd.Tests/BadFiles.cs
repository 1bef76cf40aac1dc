using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Fisher.Data;

namespace Fisher.EndToEnd.Tests;

/// <summary>Which file of a job a crafted file replaces.</summary>
public enum FileRole
{
    Architecture,
    Model,
    Inputs,
    Labels,
}

/// <summary>
/// One crafted bad file: the reader it attacks, the role it takes in an otherwise good job, and a part of the error
/// expected. <see cref="NeedsDataRoots"/>: the case is a path outside the data roots, refused only where silos
/// have <c>Fisher:DataRoots</c>.
/// </summary>
public sealed record BadCase(string Name, string Reader, FileRole Role, string Path, string Expect, bool NeedsDataRoots = false)
{
    /// <summary>Where silos have data roots, a non-regular file outside them may be refused by that check instead.</summary>
    public bool OrOutsideDataRoots { get; init; }

    public bool Expected(string error) =>
        error.Contains(Expect, StringComparison.Ordinal) || (OrOutsideDataRoots && error.Contains("data root", StringComparison.OrdinalIgnoreCase));
}

/// <summary>
/// Makes the bad-file suite's files, deterministically, from the Fashion-MNIST sample (each differs from a good file in
/// one lie): truncated files, lying headers, overflowing shapes, expanded tensors, zip and gzip bombs, corrupted CRCs,
/// wrong ISIZE, non-regular files and paths outside the data root.
/// </summary>
public static class BadFiles
{
    public static string Sample(string name) => System.IO.Path.Combine(TestProcess.RepoRoot, "samples", "fashion-mnist", name);

    private static readonly (string Key, long[] Shape)[] Parameters =
    [
        ("0.weight", [128, 784]), ("0.bias", [128]), ("2.weight", [64, 128]), ("2.bias", [64]), ("4.weight", [10, 64]), ("4.bias", [10]),
    ];

    /// <summary>The sample model's tensors as torch.save stores them: storage i holds parameter i, contiguous.</summary>
    internal static CraftedTensor[] GoodTensors() => Parameters.Select((p, i) =>
        new CraftedTensor(p.Key, i.ToString(System.Globalization.CultureInfo.InvariantCulture), p.Shape.Aggregate(1L, (a, b) => a * b), 0, p.Shape,
            p.Shape.Length == 2 ? [p.Shape[1], 1] : [1])).ToArray();

    /// <summary>The sample's storages (float32 bytes) by key.</summary>
    public static Dictionary<string, byte[]> Storages()
    {
        using var zip = ZipFile.OpenRead(Sample("model.pt"));
        return zip.Entries.Where(e => e.FullName.StartsWith("model/data/", StringComparison.Ordinal))
            .ToDictionary(e => e.FullName["model/data/".Length..], e =>
            {
                using var s = e.Open();
                using var m = new MemoryStream();
                s.CopyTo(m);
                return m.ToArray();
            });
    }

    /// <summary>A torch.save file of <paramref name="tensors"/> with the sample's storages (or <paramref name="storages"/>).</summary>
    internal static CraftedZip Torch(IEnumerable<CraftedTensor> tensors, Dictionary<string, byte[]>? storages = null, byte[]? pickle = null, bool deflate = false)
    {
        var zip = new CraftedZip().Add("model/data.pkl", pickle ?? StateDictPickle.Write(tensors));
        foreach (var (key, data) in (storages ?? Storages()).OrderBy(p => p.Key, StringComparer.Ordinal))
            zip.Add($"model/data/{key}", data, deflate);
        return zip.Add("model/version", "3\n"u8.ToArray());
    }

    public static List<BadCase> Make(string folder)
    {
        var cases = new List<BadCase>();
        string F(string name) => System.IO.Path.Combine(folder, name);
        void Add(string name, string reader, FileRole role, byte[] bytes, string expect)
        {
            File.WriteAllBytes(F(name), bytes);
            cases.Add(new BadCase(name, reader, role, F(name), expect));
        }
        Architecture(Add, F, cases);
        TorchZip(Add);
        Pickle(Add, cases);
        SafetensorsFiles(Add, F);
        Npy(Add);
        Idx(Add);
        Gzip(Add);
        NonRegular(F, cases);
        return cases;
    }

    private static void Architecture(Action<string, string, FileRole, byte[], string> add, Func<string, string> f, List<BadCase> cases)
    {
        const string reader = "architecture JSON";
        var good = File.ReadAllText(Sample("model.json"));
        add("arch-truncated.json", reader, FileRole.Architecture, Encoding.UTF8.GetBytes(good[..(good.Length / 2)]), "not valid JSON");
        add("arch-huge-width.json", reader, FileRole.Architecture, Encoding.UTF8.GetBytes(good.Replace("[784, 128, 64, 10]", "[784, 2000000000, 64, 10]", StringComparison.Ordinal)), "widths[1]: expected a positive integer up to 16777216");
        add("arch-width-overflow.json", reader, FileRole.Architecture, Encoding.UTF8.GetBytes(good.Replace("[784, 128, 64, 10]", "[784, 99999999999999999999, 64, 10]", StringComparison.Ordinal)), "widths[1]: expected a positive integer");
        add("arch-parameters.json", reader, FileRole.Architecture, Encoding.UTF8.GetBytes(good.Replace("[784, 128, 64, 10]", "[784, 16777216, 16777216, 10]", StringComparison.Ordinal)), "parameters; expected at most 134217728");
        add("arch-2mib.json", reader, FileRole.Architecture, Encoding.UTF8.GetBytes(good.Replace("{", "{" + new string(' ', 2 << 20), StringComparison.Ordinal)), "over 1048576 bytes");
        add("arch-binary.json", reader, FileRole.Architecture, [0xFF, 0xFE, 0x00, 0x80, 0x93, 0xC3, 0x28], "not UTF-8");
        add("arch-newline-field.json", reader, FileRole.Architecture, Encoding.UTF8.GetBytes(good.Replace("\"variance\"", "\"vari\\nance\"", StringComparison.Ordinal)), "unknown field");
        Directory.CreateDirectory(f("arch-folder.json"));
        cases.Add(new BadCase("arch-folder.json", reader, FileRole.Architecture, f("arch-folder.json"), "is a folder"));
    }

    private static void TorchZip(Action<string, string, FileRole, byte[], string> add)
    {
        const string reader = "torch.save zip";
        var good = Torch(GoodTensors()).Build();
        add("pt-truncated-half.pt", reader, FileRole.Model, good[..(good.Length / 2)], "no end-of-central-directory record");
        add("pt-truncated-tail.pt", reader, FileRole.Model, good[..^30], "no end-of-central-directory record");
        add("pt-lying-entry-size.pt", reader, FileRole.Model, Torch(GoodTensors()).Build((b, l) =>
        {
            // The issue's 408 KB file: both headers of the big storage declare 2 GB (stored, so sizes disagree).
            CraftedZip.PutU32(b, l.Central["model/data/0"] + 24, 0x7FFFFFFF);
            CraftedZip.PutU32(b, l.Local["model/data/0"] + 22, 0x7FFFFFFF);
        }), "stored, but 401408 bytes stored for 2147483647");
        add("pt-lying-both-sizes.pt", reader, FileRole.Model, Torch(GoodTensors()).Build((b, l) =>
        {
            CraftedZip.PutU32(b, l.Central["model/data/0"] + 20, 0x7FFFFFF0);
            CraftedZip.PutU32(b, l.Central["model/data/0"] + 24, 0x7FFFFFF0);
        }), "run past the central directory");
        add("pt-directory-offset.pt", reader, FileRole.Model, Torch(GoodTensors()).Build((b, l) => CraftedZip.PutU32(b, l.End + 16, 0x7FFFFFFF)), "does not fit before byte");
        add("pt-entry-count.pt", reader, FileRole.Model, Torch(GoodTensors()).Build((b, l) => CraftedZip.PutU16(b, l.End + 10, 0xFFFF)), "zip64 sizes without a zip64 locator");
        add("pt-local-name.pt", reader, FileRole.Model, Torch(GoodTensors()).Build((b, l) => b[l.Local["model/data/1"] + 30 + 5] = (byte)'X'), "the local header at offset");
        add("pt-crc.pt", reader, FileRole.Model, Torch(GoodTensors()).Build((b, l) => b[l.Local["model/data/0"] + 30 + "model/data/0".Length + 1000] ^= 0x40), "CRC-32");
        // A zip bomb: 64 MiB of zeros deflated to about 64 KiB, where the pickle expects the 401,408-byte storage.
        var storages = Storages();
        storages["0"] = new byte[64 << 20];
        add("pt-zip-bomb.pt", reader, FileRole.Model, Torch(GoodTensors(), storages, deflate: true).Build(), "holds 67108864 bytes; expected 401408");
        // The same bomb with both headers lying that it holds the expected 401,408 bytes.
        add("pt-zip-bomb-lying.pt", reader, FileRole.Model, Torch(GoodTensors(), storages, deflate: true).Build((b, l) =>
        {
            CraftedZip.PutU32(b, l.Central["model/data/0"] + 24, 401408);
            CraftedZip.PutU32(b, l.Local["model/data/0"] + 22, 401408);
        }), "inflates past the 401408 bytes");
    }

    private static void Pickle(Action<string, string, FileRole, byte[], string> add, List<BadCase> cases)
    {
        const string reader = "torch.save pickle";
        var t = GoodTensors();
        CraftedTensor[] With(int i, CraftedTensor changed)
        {
            var copy = (CraftedTensor[])t.Clone();
            copy[i] = changed;
            return copy;
        }
        // An expanded (stride-0) tensor whose logical size is 2^40 elements over the 128-element storage.
        add("pt-expanded-huge.pt", reader, FileRole.Model, Torch(With(1, t[1] with { Shape = [1 << 20, 1 << 20], Stride = [0, 0] })).Build(), "0.bias: file has [1048576, 1048576], architecture expects [128]");
        add("pt-expanded-overflow.pt", reader, FileRole.Model, Torch(With(1, t[1] with { Shape = [1L << 40, 1L << 40], Stride = [0, 0] })).Build(), "overflows a 64-bit element count");
        add("pt-stride-past-storage.pt", reader, FileRole.Model, Torch(With(0, t[0] with { Stride = [785, 1] })).Build(), "needs storage element");
        add("pt-stride-overflow.pt", reader, FileRole.Model, Torch(With(0, t[0] with { Stride = [long.MaxValue / 2, 1] })).Build(), "overflows 64-bit arithmetic");
        add("pt-storage-size-lie.pt", reader, FileRole.Model, Torch(With(0, t[0] with { StorageElements = 1L << 40 })).Build(), "the storages read hold 1099511627776 elements; expected at most 218772");
        var global = StateDictPickle.Write([], w =>
        {
            w.Write((byte)'0'); // drop the dict
            StateDictPickle.Global(w, "os", "system");
            StateDictPickle.Text(w, "echo owned");
            w.Write((byte)0x85);
            w.Write((byte)'R');
        });
        add("pt-global-os-system.pt", reader, FileRole.Model, Torch(t, pickle: global).Build(), "expected a state dict (a dict of tensors), got an object os.system");
        var stack = StateDictPickle.Write(t, w => w.Write(Enumerable.Repeat((byte)'N', 1_100_000).ToArray()));
        add("pt-pickle-stack.pt", reader, FileRole.Model, Torch(t, pickle: stack).Build(), "items on the pickle stack");
        var real = Path.Combine(TestProcess.RepoRoot, "tests", "Fisher.EndToEnd.Tests", "Fixtures", "expanded-huge.pt"); // python/make_expanded.py
        cases.Add(new BadCase("expanded-huge.pt (python3-torch)", reader, FileRole.Model, real, "0.bias: file has [1048576, 1048576], architecture expects [128]"));
        var noStop = StateDictPickle.Write(t);
        add("pt-pickle-truncated.pt", reader, FileRole.Model, Torch(t, pickle: noStop[..^40]).Build(), "malformed pickle");
        var big = new byte[17 << 20];
        add("pt-pickle-17mib.pt", reader, FileRole.Model, Torch(t, pickle: big).Build(), "expected at most 16777216");
    }

    private static void SafetensorsFiles(Action<string, string, FileRole, byte[], string> add, Func<string, string> f)
    {
        const string reader = "safetensors";
        var good = f("good.safetensors");
        Fisher.Data.Safetensors.Write(good, ModelLoader.ReadStateDict(Sample("model.pt")).Values);
        var bytes = File.ReadAllBytes(good);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = Encoding.UTF8.GetString(bytes, 8, headerLength);
        byte[] WithHeader(string h)
        {
            Assert.NotEqual(header, h); // the lie took
            var hb = Encoding.UTF8.GetBytes(h);
            var length = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)hb.Length);
            return [.. length, .. hb, .. bytes.AsSpan(8 + headerLength)];
        }
        add("st-truncated.safetensors", reader, FileRole.Model, bytes[..(bytes.Length / 2)], "data_offsets");
        var huge = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(huge, ulong.MaxValue - 7);
        add("st-header-length.safetensors", reader, FileRole.Model, huge, "expected a PyTorch state_dict zip file");
        var lying = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(lying, (ulong)bytes.Length - 8);
        add("st-header-length-file.safetensors", reader, FileRole.Model, lying, "not valid JSON");
        add("st-offsets.safetensors", reader, FileRole.Model, WithHeader(header.Replace("[0,512]", "[0,4000000000000]", StringComparison.Ordinal)), "out of range");
        add("st-shape-overflow.safetensors", reader, FileRole.Model, WithHeader(header.Replace("[128,784]", "[4294967296,4294967296]", StringComparison.Ordinal)), "overflows a 64-bit element count");
        add("st-shape-lie.safetensors", reader, FileRole.Model, WithHeader(header.Replace("[128,784]", "[1048576,1048576]", StringComparison.Ordinal)), "needs 1099511627776 elements");
        add("st-overlap.safetensors", reader, FileRole.Model, WithHeader(header.Replace("[0,512]", "[512,1024]", StringComparison.Ordinal)), "overlaps");
    }

    private static byte[] NpyBytes(string descr, string shape, int dataBytes, bool fortran = false, uint? headerLength = null)
    {
        var h = $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shape}, }}";
        h = h.PadRight(117) + "\n";
        using var m = new MemoryStream();
        m.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)(headerLength is null ? 1 : 2), 0]);
        if (headerLength is { } n)
            m.Write(BitConverter.GetBytes(n));
        else
            m.Write(BitConverter.GetBytes((ushort)h.Length));
        m.Write(Encoding.ASCII.GetBytes(h));
        m.Write(new byte[dataBytes]);
        return m.ToArray();
    }

    private static void Npy(Action<string, string, FileRole, byte[], string> add)
    {
        const string reader = "NPY";
        add("npy-truncated.npy", reader, FileRole.Inputs, NpyBytes("<f4", "(2000, 784)", 1000 * 784 * 4), "truncated file?");
        add("npy-shape-overflow.npy", reader, FileRole.Inputs, NpyBytes("<f4", "(4611686018427387904, 784)", 64), "overflows a 64-bit byte count");
        add("npy-lying-rows.npy", reader, FileRole.Inputs, NpyBytes("<f4", "(2300000000000000000, 784)", 784 * 4), "overflows a 64-bit byte count");
        add("npy-rows-1e12.npy", reader, FileRole.Inputs, NpyBytes("<f4", "(1000000000000, 784)", 784 * 4), "truncated file?");
        add("npy-header-length.npy", reader, FileRole.Inputs, NpyBytes("<f4", "(2000, 784)", 64, headerLength: 0x7FFFFFFF), "NPY header length 2147483647; expected at most 1048576");
        add("npy-object-dtype.npy", reader, FileRole.Inputs, NpyBytes("|O", "(2000, 784)", 2000 * 784 * 8), "expected dtype '<f4' or '<f8' for inputs");
        add("npy-long-dtype.npy", reader, FileRole.Inputs, NpyBytes("<f4xxxxxxxxxxxxxxxxxxxxxxxxx", "(2000, 784)", 64), "descr: expected a simple dtype");
        add("npy-fortran.npy", reader, FileRole.Inputs, NpyBytes("<f4", "(2000, 784)", 2000 * 784 * 4, fortran: true), "fortran_order is True");
        add("npy-labels-rows.npy", reader, FileRole.Labels, NpyBytes("<i8", "(1999,)", 1999 * 8), "the labels have 1999 rows but the inputs");
    }

    private static byte[] IdxBytes(byte type, uint[] dims, int dataBytes)
    {
        var bytes = new byte[4 + 4 * dims.Length + dataBytes];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++)
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        return bytes;
    }

    private static void Idx(Action<string, string, FileRole, byte[], string> add)
    {
        const string reader = "IDX";
        add("idx-truncated.idx", reader, FileRole.Inputs, IdxBytes(8, [2000, 28, 28], 1000 * 784), "truncated file?");
        add("idx-dims-overflow.idx", reader, FileRole.Inputs, IdxBytes(0x0E, [0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF], 64), "overflows a 64-bit byte count");
        add("idx-lying-rows.idx", reader, FileRole.Inputs, IdxBytes(8, [0x7FFFFFFF, 28, 28], 784), "truncated file?");
        add("idx-negative-dim.idx", reader, FileRole.Inputs, IdxBytes(8, [0x80000000, 28, 28], 784), "is negative");
        add("idx-type-code.idx", reader, FileRole.Inputs, IdxBytes(0x42, [2000, 28, 28], 784), "IDX type code 0x42 is unknown");
        add("idx-labels-rank0.idx", reader, FileRole.Labels, IdxBytes(8, [], 8), "IDX rank 0");
    }

    private static byte[] Gz(byte[] data)
    {
        using var m = new MemoryStream();
        using (var gz = new GZipStream(m, CompressionLevel.Fastest, leaveOpen: true))
            gz.Write(data);
        return m.ToArray();
    }

    private static void Gzip(Action<string, string, FileRole, byte[], string> add)
    {
        const string reader = "gzip (IDX)";
        var good = File.ReadAllBytes(Sample("t10k-2000-images-idx3-ubyte.gz"));
        var labels = File.ReadAllBytes(Sample("t10k-2000-labels-idx1-ubyte.gz"));
        add("gz-truncated.idx.gz", reader, FileRole.Inputs, good[..(good.Length / 2)], "gzip:");
        var crc = (byte[])good.Clone();
        crc[^8] ^= 0x01;
        add("gz-crc.idx.gz", reader, FileRole.Inputs, crc, "CRC-32");
        var isize = (byte[])good.Clone();
        isize[^2] ^= 0x01;
        add("gz-isize.idx.gz", reader, FileRole.Inputs, isize, "gzip");
        var body = (byte[])good.Clone();
        body[good.Length / 2] ^= 0x10;
        add("gz-corrupt-body.idx.gz", reader, FileRole.Inputs, body, "gzip");
        var labelCrc = (byte[])labels.Clone();
        labelCrc[^7] ^= 0x80;
        add("gz-labels-crc.idx1.gz", reader, FileRole.Labels, labelCrc, "CRC-32");
        byte[] decompressed;
        using (var gz = new GZipStream(new MemoryStream(good), CompressionMode.Decompress))
        using (var m = new MemoryStream())
        {
            gz.CopyTo(m);
            decompressed = m.ToArray();
        }
        int half = decompressed.Length / 2;
        add("gz-two-members.idx.gz", reader, FileRole.Inputs, [.. Gz(decompressed[..half]), .. Gz(decompressed[half..])], "several gzip members");
        // A bomb: the header promises 2000 images, the data inflates to 64 MiB of zeros (about 64 KiB compressed).
        var bomb = new byte[64 << 20];
        decompressed.AsSpan(0, 16).CopyTo(bomb);
        add("gz-bomb.idx.gz", reader, FileRole.Inputs, Gz(bomb), "decompresses past the 1568016 bytes its header promises");
        // A lying header: 7,653,061 images of 784 bytes (6 GB) promised by a 6 KB file.
        var lying = new byte[6 << 20];
        IdxBytes(8, [7_653_061, 28, 28], 0).CopyTo(lying, 0);
        add("gz-promise-6gb.idx.gz", reader, FileRole.Inputs, Gz(lying), "expected at most 256 times the compressed size");
    }

    private static void NonRegular(Func<string, string> f, List<BadCase> cases)
    {
        var fifo = f("fifo.idx");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo]))
            mkfifo.WaitForExit();
        cases.Add(new BadCase("inputs FIFO", "any (regular files only)", FileRole.Inputs, fifo, "regular file"));
        cases.Add(new BadCase("model FIFO", "any (regular files only)", FileRole.Model, fifo, "regular file"));
        cases.Add(new BadCase("architecture /dev/zero", "any (regular files only)", FileRole.Architecture, "/dev/zero", "not a regular file") { OrOutsideDataRoots = true });
        cases.Add(new BadCase("model /dev/zero", "any (regular files only)", FileRole.Model, "/dev/zero", "not a regular file") { OrOutsideDataRoots = true });
        cases.Add(new BadCase("labels /dev/urandom", "any (regular files only)", FileRole.Labels, "/dev/urandom", "not a regular file") { OrOutsideDataRoots = true });
        // Outside the data roots.
        cases.Add(new BadCase("inputs outside the data root", "data roots", FileRole.Inputs, "/etc/passwd", "data root", NeedsDataRoots: true));
        var escape = f("../../etc/passwd"); // a file that exists, outside the roots
        cases.Add(new BadCase("labels path escaping by ..", "data roots", FileRole.Labels, escape, "data root", NeedsDataRoots: true));
    }
}
