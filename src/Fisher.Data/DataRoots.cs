using System.Globalization;
using System.Runtime.InteropServices;

namespace Fisher.Data;

/// <summary>
/// The folders a process may read user-named files from. <see cref="Resolve"/> is the one check every such file goes
/// through before it is opened: the path is resolved as the kernel would (every symlink and <c>..</c>, realpath), must
/// then lie under a resolved root (at a separator boundary: root <c>/data</c> does not admit <c>/data2</c>), and must
/// be a regular file: directories, FIFOs (whose open blocks), sockets and character or block devices (<c>/dev/zero</c>
/// never ends) are refused without being opened. Readers open the resolved path, so a symlink swapped afterwards
/// cannot lead outside. Messages name the path as given and what was expected, never the file's content.
/// </summary>
public sealed class DataRoots
{
    private readonly string[] _resolved;

    /// <summary>
    /// Roots from absolute paths of existing folders (see <see cref="Problem"/>); <paramref name="setting"/> names where
    /// they are configured in messages ("Fisher:Grains:DataRoots"). No roots: every path is refused.
    /// </summary>
    public DataRoots(IEnumerable<string> roots, string setting)
    {
        ArgumentNullException.ThrowIfNull(roots);
        ArgumentException.ThrowIfNullOrWhiteSpace(setting);
        Setting = setting;
        var given = roots.ToArray();
        foreach (var root in given)
        {
            if (Problem(root) is { } problem)
                throw new ArgumentException($"{setting}: {problem}", nameof(roots));
        }
        Roots = given;
        _resolved = given.Select(r => WithSeparator(RealPath(r) ?? r)).Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>Every file of the machine (still only regular files): the embedded CLI, a process of the user's own.</summary>
    public static DataRoots Everywhere { get; } =
        new([OperatingSystem.IsWindows() ? System.IO.Path.GetPathRoot(Environment.SystemDirectory) ?? "C:\\" : "/"], "the whole file system");

    /// <summary>The roots as configured.</summary>
    public IReadOnlyList<string> Roots { get; }

    /// <summary>Where the roots are configured, for messages.</summary>
    public string Setting { get; }

    /// <summary>Why <paramref name="root"/> cannot be a data root (not absolute, or no existing folder), else null.</summary>
    public static string? Problem(string? root)
    {
        if (string.IsNullOrWhiteSpace(root))
            return "a data root is empty; expected an absolute path of an existing folder";
        if (!System.IO.Path.IsPathFullyQualified(root))
            return $"data root '{root}' is not an absolute path";
        if (!Directory.Exists(root))
            return $"data root '{root}' is not an existing folder";
        return null;
    }

    /// <summary>
    /// The resolved path of <paramref name="path"/> when it is a regular file under a root; else throws a
    /// <see cref="DataPathException"/> saying what was expected.
    /// </summary>
    public string Resolve(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (_resolved.Length == 0)
            throw new DataPathException(path, $"this silo reads no user files until data roots are configured ({Setting})");
        if (path.Contains('\0', StringComparison.Ordinal))
            throw new DataPathException(path, "contains a NUL character; expected a file path");
        var real = RealPath(path) ?? throw new DataPathException(path, "no such file");
        if (!_resolved.Any(root => real.StartsWith(root, StringComparison.Ordinal)))
            throw new DataPathException(path, $"outside the data roots ({string.Join(", ", Roots)}, {Setting}); expected a file under one of them");
        if (FileKind(real) is { } kind)
            throw new DataPathException(path, $"is {kind}; expected a regular file");
        return real;
    }

    private static string WithSeparator(string root) =>
        root.EndsWith(System.IO.Path.DirectorySeparatorChar) ? root : root + System.IO.Path.DirectorySeparatorChar;

    /// <summary>realpath(3): the absolute path with every symlink and <c>..</c> resolved; null when it does not exist.</summary>
    private static string? RealPath(string path)
    {
        if (!OperatingSystem.IsLinux())
            return ManagedRealPath(path);
        nint resolved = realpath(path, 0);
        if (resolved == 0)
            return null;
        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            free(resolved);
        }
    }

    /// <summary>Elsewhere (silos run on Linux; this serves the embedded CLI): the full path with the final link resolved.</summary>
    private static string? ManagedRealPath(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full) && !Directory.Exists(full))
            return null;
        var target = new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true);
        return target?.FullName ?? full;
    }

    /// <summary>What a resolved path is when it is not a regular file ("a FIFO"), else null; never opens it.</summary>
    private static string? FileKind(string real)
    {
        if (Directory.Exists(real))
            return "a folder";
        if (!OperatingSystem.IsLinux())
            return File.Exists(real) ? null : "not a regular file";
        // statx(2) has the same layout on every architecture: stx_mode is the u16 at offset 28 of its 256 bytes.
        var buffer = new byte[256];
        if (statx(AtCurrentDirectory, real, 0, StatxType, buffer) != 0)
            return string.Create(CultureInfo.InvariantCulture, $"not accessible (error {Marshal.GetLastPInvokeError()})");
        int type = BitConverter.ToUInt16(buffer, 28) & 0xF000;
        return type switch
        {
            0x8000 => null,
            0x1000 => "a FIFO",
            0xC000 => "a socket",
            0x2000 => "a character device",
            0x6000 => "a block device",
            0x4000 => "a folder",
            _ => "not a regular file",
        };
    }

    private const int AtCurrentDirectory = -100; // AT_FDCWD
    private const uint StatxType = 0x1; // STATX_TYPE

    [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
    private static extern nint realpath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, nint resolved);

    [DllImport("libc", EntryPoint = "free")]
    private static extern void free(nint pointer);

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    private static extern int statx(int directory, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
}
