namespace Fisher.Data;

/// <summary>
/// Opens a file a reader may read: a regular file with content. A folder, an empty file, a FIFO, a device or a
/// <c>/proc</c> file (whose size is 0 for <c>stat</c>) is refused before it is opened, so a reader never blocks on a
/// FIFO nor reads an endless device; every later read is bounded by the size it has when opened.
/// </summary>
internal static class RegularFile
{
    /// <summary>Opens <paramref name="path"/> for reading; throws <see cref="FileNotFoundException"/> when it does not exist.</summary>
    public static FileStream OpenRead(string path, int bufferSize = 1 << 16)
    {
        ArgumentNullException.ThrowIfNull(path);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            if (Directory.Exists(path))
                throw new DataFormatException(path, "is a folder; expected a regular file");
            throw new FileNotFoundException($"{path}: no such file", path);
        }
        if (info.Length == 0)
            throw new DataFormatException(path, "size 0: the file is empty or not a regular file (a FIFO, device or /proc file); expected a regular file with content");
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize);
        if (!stream.CanSeek || stream.Length == 0)
        {
            stream.Dispose();
            throw new DataFormatException(path, "not a regular file with content (it changed since it was checked?)");
        }
        return stream;
    }

    /// <summary>The key of a file's current content for caches: full path, length and last write time.</summary>
    public static string IdentityKey(string path)
    {
        var info = new FileInfo(path);
        return $"{info.FullName}|{info.Length}|{info.LastWriteTimeUtc.Ticks}";
    }
}
