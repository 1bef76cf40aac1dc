using System.Runtime.InteropServices;
using Xunit;

namespace Fisher.Data.Tests;

/// <summary>
/// <see cref="DataRoots.Resolve"/>: only regular files under a root, after every symlink and <c>..</c> is resolved;
/// refusals name the path as given and what was expected, at once (a FIFO is never opened).
/// </summary>
public sealed class DataRootsTests : IDisposable
{
    private const string Secret = "SECRET-5b1f0c-do-not-echo";
    private readonly TempFolder _temp = new();
    private readonly string _root;
    private readonly string _outside;
    private readonly string _secret;

    public DataRootsTests()
    {
        _root = Directory.CreateDirectory(_temp.File("root")).FullName;
        _outside = Directory.CreateDirectory(_temp.File("outside")).FullName;
        _secret = Path.Combine(_outside, "secret.txt");
        File.WriteAllText(_secret, Secret + "\n");
        File.WriteAllText(Path.Combine(_root, "data.txt"), "inside\n");
    }

    public void Dispose() => _temp.Dispose();

    private DataRoots Roots() => new([_root], "Fisher:Grains:DataRoots");

    private DataPathException Refused(string path, string expected)
    {
        var e = Assert.Throws<DataPathException>(() => Roots().Resolve(path));
        Assert.Equal(path, e.Path);
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    [Fact]
    public void A_regular_file_under_the_root_resolves_to_its_real_path() =>
        Assert.Equal(Path.Combine(_root, "data.txt"), Roots().Resolve(Path.Combine(_root, "data.txt")));

    [Fact]
    public void A_file_outside_the_root_is_refused_naming_the_roots_and_the_setting()
    {
        var e = Refused(_secret, "outside the data roots");
        Assert.Contains(_root, e.Message, StringComparison.Ordinal);
        Assert.Contains("Fisher:Grains:DataRoots", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dot_dot_escape_is_refused() => Refused(Path.Combine(_root, "..", "outside", "secret.txt"), "outside the data roots");

    [Fact]
    public void A_sibling_folder_sharing_the_root_as_prefix_is_refused()
    {
        var sibling = Directory.CreateDirectory(_root + "2").FullName;
        File.WriteAllText(Path.Combine(sibling, "x.txt"), Secret);
        Refused(Path.Combine(sibling, "x.txt"), "outside the data roots");
    }

    [Fact]
    public void A_symlink_inside_the_root_to_a_file_outside_is_refused()
    {
        var link = Path.Combine(_root, "innocent.npy");
        File.CreateSymbolicLink(link, _secret);
        Refused(link, "outside the data roots");
    }

    [Fact]
    public void A_symlinked_folder_inside_the_root_leading_outside_is_refused()
    {
        var link = Path.Combine(_root, "shared");
        Directory.CreateSymbolicLink(link, _outside);
        Refused(Path.Combine(link, "secret.txt"), "outside the data roots");
    }

    [Fact]
    public void A_symlink_inside_the_root_to_a_file_inside_resolves_to_the_target()
    {
        var link = Path.Combine(_root, "alias.txt");
        File.CreateSymbolicLink(link, Path.Combine(_root, "data.txt"));
        Assert.Equal(Path.Combine(_root, "data.txt"), Roots().Resolve(link));
    }

    [Fact]
    public void A_folder_is_refused() => Refused(Directory.CreateDirectory(Path.Combine(_root, "images")).FullName, "is a folder; expected a regular file");

    [Fact]
    public void A_missing_file_is_refused() => Refused(Path.Combine(_root, "missing.npy"), "no such file");

    [Fact]
    public async Task A_fifo_is_refused_at_once_without_blocking()
    {
        var fifo = Path.Combine(_root, "pipe.npy");
        Assert.Equal(0, mkfifo(fifo, 0x180)); // 0600; nobody ever writes to it: an open for reading would block forever
        var check = Task.Run(() => Refused(fifo, "is a FIFO; expected a regular file"));
        await check.WaitAsync(TimeSpan.FromSeconds(10)); // TimeoutException: the check blocked
    }

    [Fact]
    public void A_character_device_is_refused()
    {
        var e = Assert.Throws<DataPathException>(() => DataRoots.Everywhere.Resolve("/dev/zero"));
        Assert.Equal("/dev/zero: is a character device; expected a regular file", e.Message);
    }

    [Fact]
    public void A_symlink_to_a_device_is_refused()
    {
        var link = Path.Combine(_root, "weights.pt");
        File.CreateSymbolicLink(link, "/dev/zero");
        Refused(link, "outside the data roots");
        Assert.Contains("character device", Assert.Throws<DataPathException>(() => DataRoots.Everywhere.Resolve(link)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_roots_refuse_every_path_naming_the_setting() =>
        Assert.Contains("until data roots are configured (Fisher:Grains:DataRoots)",
            Assert.Throws<DataPathException>(() => new DataRoots([], "Fisher:Grains:DataRoots").Resolve(_secret)).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("relative/data", "not an absolute path")]
    [InlineData("/no/such/folder/anywhere", "not an existing folder")]
    [InlineData("", "empty")]
    public void A_bad_root_is_named(string root, string expected) => Assert.Contains(expected, DataRoots.Problem(root), StringComparison.Ordinal);

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);
}
