using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Fisher.Data;

/// <summary>
/// Plain copies of gzip array files, made once per machine, so that a reader that must start far into a compressed
/// file (the shard of a job that begins at row 45,000) seeks in the copy instead of decompressing everything before its
/// rows: with 4 shards of one .gz file, the shards decompressed 2.5x the file between them, and the shard that
/// started last finished last. The copy lives in <c>$FISHER_CACHE_DIR</c> (default: <c>fisher-cache</c> in the
/// temporary folder), named after the source's full path, length and write time, so a changed source gets a new copy;
/// it is written under a temporary name and renamed, so readers in other processes never see a partial copy. Within
/// a process one reader makes it while the others wait. Copies older than a week are removed when a new one is made.
/// Set <c>FISHER_CACHE_DIR</c> to an empty string to disable.
/// Any failure (a damaged or truncated source, a full disk, a read-only folder) gives no copy: the reader then
/// decompresses as before and reports the source's own error.
/// </summary>
internal static class DecompressedCopies
{
    private static readonly ConcurrentDictionary<string, Lazy<string?>> Copies = new();

    /// <summary>For tests: a folder used instead of the environment's.</summary>
    internal static string? FolderOverride { get; set; }

    /// <summary>The folder copies go to, or null when disabled.</summary>
    public static string? Folder
    {
        get
        {
            if (FolderOverride is not null)
                return FolderOverride;
            var configured = Environment.GetEnvironmentVariable("FISHER_CACHE_DIR");
            if (configured is null)
                return System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fisher-cache");
            return configured.Length == 0 ? null : configured;
        }
    }

    /// <summary>
    /// The path of a plain copy of <paramref name="path"/> holding at least <paramref name="expectedBytes"/> decompressed
    /// bytes, making it if needed; null when there is none and none can be made.
    /// </summary>
    public static string? TryGet(string path, long expectedBytes)
    {
        var folder = Folder;
        if (folder is null)
            return null;
        FileInfo source;
        try
        {
            source = new FileInfo(path);
            if (!source.Exists)
                return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
        var key = $"{source.FullName}|{source.Length}|{source.LastWriteTimeUtc.Ticks}";
        var name = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..32] + ".raw";
        var target = System.IO.Path.Combine(folder, name);
        var copy = Copies.GetOrAdd(target, t => new Lazy<string?>(() => Make(source.FullName, t, expectedBytes), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
        if (copy is null)
            Copies.TryRemove(target, out _); // a later reader may try again (the disk may have room by then)
        return copy;
    }

    /// <summary>How long a copy is kept after it was made; older ones are removed whenever another copy is made.</summary>
    internal static TimeSpan KeepCopiesFor { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Best effort: removes copies made more than <see cref="KeepCopiesFor"/> ago (a copy still needed is made again)
    /// and temporary files a crashed process left more than a day ago, so the folder does not grow without end.
    /// </summary>
    private static void RemoveStale(string folder, string keep)
    {
        var now = DateTime.UtcNow;
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            try
            {
                var age = now - File.GetLastWriteTimeUtc(file);
                bool stale = file.EndsWith(".raw", StringComparison.Ordinal) ? age > KeepCopiesFor : file.EndsWith(".tmp", StringComparison.Ordinal) && age > TimeSpan.FromDays(1);
                if (stale && file != keep)
                    File.Delete(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // another process may be using or removing it
            }
        }
    }

    private static string? Make(string source, string target, long expectedBytes)
    {
        string? temporary = null;
        try
        {
            if (File.Exists(target) && new FileInfo(target).Length >= expectedBytes)
                return target;
            var folder = System.IO.Path.GetDirectoryName(target)!;
            Directory.CreateDirectory(folder);
            if (new DriveInfo(folder).AvailableFreeSpace < 2 * expectedBytes)
                return null;
            temporary = $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
            using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
            using (var gzip = new GZipStream(input, CompressionMode.Decompress))
            using (var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                gzip.CopyTo(output, 1 << 20);
                if (output.Length < expectedBytes)
                    throw new InvalidDataException("shorter than its header says");
            }
            File.Move(temporary, target, overwrite: true);
            temporary = null;
            RemoveStale(folder, target);
            return target;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or ArgumentException or NotSupportedException)
        {
            return null;
        }
        finally
        {
            if (temporary is not null)
            {
                try
                {
                    File.Delete(temporary);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // best effort
                }
            }
        }
    }
}
