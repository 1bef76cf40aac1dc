using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;

namespace Fisher.EndToEnd.Tests;

/// <summary>One tensor of a crafted state dict: its storage entry and the view torch.save would pickle.</summary>
internal sealed record CraftedTensor(string Key, string Storage, long StorageElements, long Offset, long[] Shape, long[] Stride);

/// <summary>
/// Writes the pickle torch.save writes for a state dict (protocol 2: an OrderedDict of _rebuild_tensor_v2 calls whose
/// storages are persistent ids), so tests can make torch.save files that lie in exactly one place.
/// </summary>
internal static class StateDictPickle
{
    public static byte[] Write(IEnumerable<CraftedTensor> tensors, Action<BinaryWriter>? extraBeforeStop = null)
    {
        using var stream = new MemoryStream();
        using var w = new BinaryWriter(stream);
        w.Write((byte)0x80);
        w.Write((byte)2);
        Global(w, "collections", "OrderedDict");
        w.Write((byte)')');
        w.Write((byte)'R');
        foreach (var t in tensors)
        {
            Text(w, t.Key);
            Global(w, "torch._utils", "_rebuild_tensor_v2");
            w.Write((byte)'(');
            w.Write((byte)'(');
            Text(w, "storage");
            Global(w, "torch", "FloatStorage");
            Text(w, t.Storage);
            Text(w, "cpu");
            Long(w, t.StorageElements);
            w.Write((byte)'t');
            w.Write((byte)'Q');
            Long(w, t.Offset);
            Tuple(w, t.Shape);
            Tuple(w, t.Stride);
            w.Write((byte)0x89);
            Global(w, "collections", "OrderedDict");
            w.Write((byte)')');
            w.Write((byte)'R');
            w.Write((byte)'t');
            w.Write((byte)'R');
            w.Write((byte)'s');
        }
        extraBeforeStop?.Invoke(w);
        w.Write((byte)'.');
        w.Flush();
        return stream.ToArray();
    }

    public static void Global(BinaryWriter w, string module, string name)
    {
        w.Write((byte)'c');
        w.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
    }

    public static void Text(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((byte)'X');
        w.Write((uint)bytes.Length);
        w.Write(bytes);
    }

    public static void Long(BinaryWriter w, long value)
    {
        w.Write((byte)0x8a);
        w.Write((byte)8);
        w.Write(value);
    }

    private static void Tuple(BinaryWriter w, long[] values)
    {
        w.Write((byte)'(');
        foreach (var v in values)
            Long(w, v);
        w.Write((byte)'t');
    }
}

/// <summary>A zip writer (stored or deflated entries) whose every header field can be made to lie afterwards.</summary>
internal sealed class CraftedZip
{
    private readonly List<(string Name, byte[] Data, bool Deflate)> _entries = [];

    public CraftedZip Add(string name, byte[] data, bool deflate = false)
    {
        _entries.Add((name, data, deflate));
        return this;
    }

    /// <summary>Where the writer put each record, for patches.</summary>
    public sealed class Layout
    {
        public Dictionary<string, int> Local { get; } = [];
        public Dictionary<string, int> Central { get; } = [];
        public int End { get; set; }
    }

    public byte[] Build(Action<byte[], Layout>? patch = null)
    {
        using var stream = new MemoryStream();
        using var w = new BinaryWriter(stream);
        var layout = new Layout();
        var records = new List<(string Name, int Method, uint Crc, int Compressed, int Size, int Offset)>();
        foreach (var (name, data, deflate) in _entries)
        {
            var payload = deflate ? Deflate(data) : data;
            uint crc = Crc32.HashToUInt32(data);
            int method = deflate ? 8 : 0;
            layout.Local[name] = (int)stream.Position;
            records.Add((name, method, crc, payload.Length, data.Length, (int)stream.Position));
            var n = Encoding.UTF8.GetBytes(name);
            w.Write(0x04034b50u); w.Write((ushort)20); w.Write((ushort)0); w.Write((ushort)method); w.Write(0u);
            w.Write(crc); w.Write((uint)payload.Length); w.Write((uint)data.Length); w.Write((ushort)n.Length); w.Write((ushort)0);
            w.Write(n);
            w.Write(payload);
        }
        int directory = (int)stream.Position;
        foreach (var r in records)
        {
            layout.Central[r.Name] = (int)stream.Position;
            var n = Encoding.UTF8.GetBytes(r.Name);
            w.Write(0x02014b50u); w.Write((ushort)20); w.Write((ushort)20); w.Write((ushort)0); w.Write((ushort)r.Method); w.Write(0u);
            w.Write(r.Crc); w.Write((uint)r.Compressed); w.Write((uint)r.Size); w.Write((ushort)n.Length); w.Write((ushort)0); w.Write((ushort)0);
            w.Write((ushort)0); w.Write((ushort)0); w.Write(0u); w.Write((uint)r.Offset);
            w.Write(n);
        }
        int size = (int)stream.Position - directory;
        layout.End = (int)stream.Position;
        w.Write(0x06054b50u); w.Write((ushort)0); w.Write((ushort)0); w.Write((ushort)records.Count); w.Write((ushort)records.Count);
        w.Write((uint)size); w.Write((uint)directory); w.Write((ushort)0);
        w.Flush();
        var bytes = stream.ToArray();
        patch?.Invoke(bytes, layout);
        return bytes;
    }

    private static byte[] Deflate(byte[] data)
    {
        using var output = new MemoryStream();
        using (var deflate = new DeflateStream(output, CompressionLevel.Fastest, leaveOpen: true))
            deflate.Write(data);
        return output.ToArray();
    }

    public static void PutU32(byte[] bytes, int at, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), value);

    public static void PutU16(byte[] bytes, int at, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(at), value);
}
