using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

namespace Fisher.Deploy.Tests;

/// <summary>
/// An OCI image archive (a tar of an OCI image layout, as <c>podman load</c> and <c>skopeo copy oci-archive:</c> read
/// it), checked while read: the layout version, one image manifest in index.json, every blob's SHA-256 and size equal
/// to what names it, and the config's diff_ids equal to the layers' uncompressed digests.
/// </summary>
public sealed class OciArchive
{
    private const string ManifestType = "application/vnd.oci.image.manifest.v1+json";
    private const string ConfigType = "application/vnd.oci.image.config.v1+json";
    private const string LayerType = "application/vnd.oci.image.layer.v1.tar";

    private OciArchive(string path, JsonElement index, JsonElement manifest, JsonElement config, IReadOnlyList<LayerEntry> entries)
    {
        Path = path;
        Index = index;
        Manifest = manifest;
        Config = config;
        Entries = entries;
    }

    public string Path { get; }

    public JsonElement Index { get; }

    public JsonElement Manifest { get; }

    /// <summary>The image configuration; its "config" member holds User, Entrypoint, Env, Labels, ...</summary>
    public JsonElement Config { get; }

    /// <summary>Every entry of every layer, in layer order.</summary>
    public IReadOnlyList<LayerEntry> Entries { get; }

    /// <summary>The image name of index.json's manifest (org.opencontainers.image.ref.name).</summary>
    public string RefName => Index.GetProperty("manifests")[0].GetProperty("annotations").GetProperty("org.opencontainers.image.ref.name").GetString()!;

    /// <summary>Reads and checks the archive; throws <see cref="InvalidDataException"/> naming the first entry that is wrong.</summary>
    public static OciArchive Read(string path)
    {
        var small = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var blobSizes = new Dictionary<string, long>(StringComparer.Ordinal);
        using (var file = File.OpenRead(path))
        using (var tar = new TarReader(file))
        {
            while (tar.GetNextEntry() is { } entry)
            {
                var name = entry.Name.TrimStart('.', '/');
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null)
                    continue;
                if (name.StartsWith("blobs/sha256/", StringComparison.Ordinal))
                {
                    var digest = "sha256:" + name["blobs/sha256/".Length..];
                    using var copy = new MemoryStream();
                    using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    var buffer = new byte[1 << 20];
                    int read;
                    while ((read = entry.DataStream.Read(buffer)) > 0)
                    {
                        sha.AppendData(buffer, 0, read);
                        if (entry.Length <= 1 << 20)
                            copy.Write(buffer, 0, read);
                    }
                    var actual = "sha256:" + Convert.ToHexStringLower(sha.GetHashAndReset());
                    if (actual != digest)
                        throw new InvalidDataException($"{path}: blob {name} has digest {actual}, expected its name");
                    blobSizes[digest] = entry.Length;
                    if (entry.Length <= 1 << 20)
                        small[digest] = copy.ToArray();
                }
                else
                {
                    using var copy = new MemoryStream();
                    entry.DataStream.CopyTo(copy);
                    small[name] = copy.ToArray();
                }
            }
        }

        var layout = Json(path, small, "oci-layout");
        if (layout.GetProperty("imageLayoutVersion").GetString() != "1.0.0")
            throw new InvalidDataException($"{path}: oci-layout imageLayoutVersion is not 1.0.0");
        var index = Json(path, small, "index.json");
        var manifests = index.GetProperty("manifests");
        if (manifests.GetArrayLength() != 1)
            throw new InvalidDataException($"{path}: index.json lists {manifests.GetArrayLength()} manifests, expected 1");
        var manifest = Json(path, small, Descriptor(path, manifests[0], ManifestType, blobSizes, "index.json manifests[0]"));
        var config = Json(path, small, Descriptor(path, manifest.GetProperty("config"), ConfigType, blobSizes, "manifest config"));
        var layers = manifest.GetProperty("layers").EnumerateArray().ToList();
        var diffIds = config.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray().Select(d => d.GetString()!).ToList();
        if (layers.Count == 0 || layers.Count != diffIds.Count)
            throw new InvalidDataException($"{path}: the manifest has {layers.Count} layers and the config {diffIds.Count} diff_ids, expected as many and at least one");
        var entries = new List<LayerEntry>();
        for (int i = 0; i < layers.Count; i++)
        {
            var digest = Descriptor(path, layers[i], LayerType, blobSizes, $"manifest layers[{i}]");
            var gzip = layers[i].GetProperty("mediaType").GetString()!.EndsWith("+gzip", StringComparison.Ordinal);
            var diffId = ReadLayer(path, digest, gzip, i, entries);
            if (diffId != diffIds[i])
                throw new InvalidDataException($"{path}: layer {i} uncompressed has digest {diffId}, expected config rootfs.diff_ids[{i}] {diffIds[i]}");
        }
        return new OciArchive(path, index, manifest, config, entries);
    }

    /// <summary>A descriptor's digest, after checking its media type and that the blob is there with its size.</summary>
    private static string Descriptor(string path, JsonElement descriptor, string mediaType, Dictionary<string, long> blobSizes, string what)
    {
        var type = descriptor.GetProperty("mediaType").GetString()!;
        if (!type.StartsWith(mediaType, StringComparison.Ordinal))
            throw new InvalidDataException($"{path}: {what} has media type {type}, expected {mediaType}");
        var digest = descriptor.GetProperty("digest").GetString()!;
        if (!blobSizes.TryGetValue(digest, out var size))
            throw new InvalidDataException($"{path}: {what} names blob {digest}, which is not in blobs/");
        if (descriptor.GetProperty("size").GetInt64() != size)
            throw new InvalidDataException($"{path}: {what} says size {descriptor.GetProperty("size").GetInt64()}, the blob has {size} bytes");
        return digest;
    }

    private static JsonElement Json(string path, Dictionary<string, byte[]> small, string key) =>
        small.TryGetValue(key, out var bytes)
            ? JsonDocument.Parse(bytes).RootElement.Clone()
            : throw new InvalidDataException($"{path}: {key} is missing (or larger than 1 MB)");

    /// <summary>Lists a layer's entries into <paramref name="entries"/>; returns the digest of the uncompressed layer.</summary>
    private static string ReadLayer(string path, string digest, bool gzip, int layer, List<LayerEntry> entries)
    {
        using var file = File.OpenRead(path);
        using var outer = new TarReader(file);
        var name = "blobs/sha256/" + digest["sha256:".Length..];
        while (outer.GetNextEntry() is { } entry)
        {
            if (entry.Name.TrimStart('.', '/') != name || entry.DataStream is null)
                continue;
            using Stream plain = gzip ? new GZipStream(entry.DataStream, CompressionMode.Decompress) : entry.DataStream;
            using var sha = SHA256.Create();
            using (var hashed = new CryptoStream(plain, sha, CryptoStreamMode.Read, leaveOpen: true))
            {
                using (var tar = new TarReader(hashed, leaveOpen: true))
                {
                    while (tar.GetNextEntry() is { } e)
                        entries.Add(new LayerEntry(layer, e.Name.TrimStart('.').Trim('/'), e.EntryType, e.Length, e.LinkName));
                }
                hashed.CopyTo(Stream.Null); // the end-of-archive blocks
            }
            return "sha256:" + Convert.ToHexStringLower(sha.Hash!);
        }
        throw new InvalidDataException($"{path}: layer blob {name} vanished");
    }
}
