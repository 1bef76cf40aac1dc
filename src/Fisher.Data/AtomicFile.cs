namespace Fisher.Data;

/// <summary>
/// Replaces a file in one step: the content is written to a hidden temporary file beside it and renamed over it, so a
/// reader sees the old file or the new one, never half of one; a failed write leaves the old file and no temporary.
/// </summary>
public static class AtomicFile
{
    /// <summary>Calls <paramref name="write"/> with the temporary file's path, then renames that file to <paramref name="path"/>.</summary>
    /// <param name="suffix">The temporary file's ending (a writer that picks its format by extension needs its own).</param>
    public static void Replace(string path, Action<string> write, string suffix = ".tmp")
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}{suffix}");
        try
        {
            write(temporary);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            try
            {
                if (File.Exists(temporary))
                    File.Delete(temporary);
            }
            catch (IOException)
            {
                // best effort: the temporary file is hidden and never at the target path
            }
        }
    }

    /// <summary>Replaces <paramref name="path"/> with <paramref name="bytes"/>.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Replace(path, temporary => File.WriteAllBytes(temporary, copy));
    }
}
