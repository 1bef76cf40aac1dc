using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Fisher.Data;

/// <summary>
/// Plain copies of gzip array files, made once per machine, so that a reader that must start far into a compressed
/// file (the shard of a job that begins at row 45,000) seeks in the copy instead of decompressing everything before
/// its rows: with 4 shards of one .gz file, the shards decompressed 2.5x the file between them, and the shard that
/// started last finished last. The copy lives in <c>$FISHER_CACHE_DIR</c> (default: <c>fisher/decompressed</c> in the
/// user's cache folder; a folder others can write to is refused), named after the source's full path, length and
/// write time, so a changed source gets a new copy; it is written under a temporary name and renamed (AtomicFile), so
/// readers in other processes never see a partial or unverified copy. Within a process one reader makes it while the others wait. Copies
/// unused for a week are removed when a new one is made. Set <c>FISHER_CACHE_DIR</c> to an empty string to disable.
/// Any failure (a damaged or truncated source, a full disk, a read-only folder) gives no copy: the reader then
/// decompresses as before and reports the source's own error.
/// <para>An instance names the folder and how long copies are kept; <see cref="FromEnvironment"/> gives the machine's.</para>
/// </summary>
internal sealed class DecompressedCopies
{
    /// <summary>How long a copy is kept after it was last used, unless told otherwise.</summary>
    public static readonly TimeSpan DefaultKeepCopiesFor = TimeSpan.FromDays(7);

    /// <summary>The copies being made or made in this process, by target path (one maker per copy).</summary>
    private static readonly ConcurrentDictionary<string, Lazy<string?>> Copies = new();

    /// <param name="folder">The folder copies go to; null: no copies.</param>
    /// <param name="keepCopiesFor">How long a copy is kept after it was last used.</param>
    public DecompressedCopies(string? folder, TimeSpan keepCopiesFor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keepCopiesFor, TimeSpan.Zero);
        Folder = folder;
        KeepCopiesFor = keepCopiesFor;
    }

    /// <summary>
    /// The copies of this machine, as the environment says now: in <see cref="EnvironmentFolder"/>, kept for
    /// <see cref="DefaultKeepCopiesFor"/>.
    /// </summary>
    public static DecompressedCopies FromEnvironment() => new(EnvironmentFolder(), DefaultKeepCopiesFor);

    /// <summary>The folder copies go to, or null when disabled.</summary>
    public string? Folder { get; }

    /// <summary>How long a copy is kept after it was last used; older ones are removed whenever another copy is made.</summary>
    public TimeSpan KeepCopiesFor { get; }

    /// <summary>
    /// The folder the environment gives, or null when disabled: <c>$FISHER_CACHE_DIR</c>, else <c>fisher/decompressed</c>
    /// in the user's cache folder (<c>$XDG_CACHE_HOME</c> or <c>~/.cache</c>), never a folder other users can write to.
    /// </summary>
    public static string? EnvironmentFolder()
    {
        var configured = Environment.GetEnvironmentVariable("FISHER_CACHE_DIR");
        if (configured is not null)
            return configured.Length == 0 ? null : configured;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var root = !string.IsNullOrEmpty(xdg) ? xdg : !string.IsNullOrEmpty(home) ? System.IO.Path.Combine(home, ".cache") : null;
        return root is null ? null : System.IO.Path.Combine(root, "fisher", "decompressed");
    }

    /// <summary>
    /// The path of a plain copy of <paramref name="path"/> holding exactly <paramref name="expectedBytes"/> decompressed
    /// bytes whose CRC-32 matched the gzip trailer, making it if needed; null when there is none and none can be made.
    /// </summary>
    public string? TryGet(string path, long expectedBytes)
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
        for (int attempt = 0; attempt < 2; attempt++)
        {
            var lazy = Copies.GetOrAdd(target, t => new Lazy<string?>(() => Make(source.FullName, t, expectedBytes), LazyThreadSafetyMode.ExecutionAndPublication));
            var copy = lazy.Value;
            if (copy is not null && Touch(copy))
                return copy;
            // No copy could be made (a later reader may try again: the disk may have room by then), or the copy was
            // removed since (by the clean-up of another process): forget it and, once, make it again.
            Copies.TryRemove(new KeyValuePair<string, Lazy<string?>>(target, lazy));
            if (copy is null)
                return null;
        }
        return null;
    }

    /// <summary>Marks a copy as used now, so that the clean-up of other processes keeps it; false when it is gone.</summary>
    private static bool Touch(string copy)
    {
        try
        {
            File.SetLastWriteTimeUtc(copy, DateTime.UtcNow);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return File.Exists(copy);
        }
    }

    /// <summary>
    /// Creates the folder readable and writable by this user only, or checks that an existing one is not writable by
    /// others: a copy planted there would be read as the dataset.
    /// </summary>
    private static bool PrivateFolder(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
            return true;
        }
        if (!Directory.Exists(folder))
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var mode = File.GetUnixFileMode(folder);
        return (mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) == 0;
    }

    /// <summary>
    /// Best effort: removes copies last used more than <see cref="KeepCopiesFor"/> ago (a copy still needed is made again)
    /// and temporary files a crashed process left more than a day ago, so the folder does not grow without end.
    /// </summary>
    private void RemoveStale(string folder, string keep)
    {
        var now = DateTime.UtcNow;
        string[] files;
        try
        {
            files = Directory.GetFiles(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (var file in files)
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

    private string? Make(string source, string target, long expectedBytes)
    {
        try
        {
            var folder = System.IO.Path.GetDirectoryName(target)!;
            if (!PrivateFolder(folder))
                return null;
            if (File.Exists(target) && new FileInfo(target).Length == expectedBytes)
                return target;
            if (new DriveInfo(folder).AvailableFreeSpace < 2 * expectedBytes)
                return null;
            AtomicFile.Replace(target, temporary =>
            {
                using var input = RegularFile.OpenRead(source);
                using var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
                // Bounded by the header's promise, exactly that long, CRC-32 and length checked against the trailer:
                // only a verified copy is renamed into place.
                GzipCheck.Decompress(source, input, expectedBytes, output);
                output.Flush(flushToDisk: true);
            });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null; // IO, permissions, a damaged source...: no copy; the reader decompresses in place
        }
        RemoveStale(System.IO.Path.GetDirectoryName(target)!, target);
        return target;
    }
}
