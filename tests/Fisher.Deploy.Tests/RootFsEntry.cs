using System.Globalization;
using Fisher.EndToEnd.Tests;

namespace Fisher.Deploy.Tests;

/// <summary>One path of an unpacked root file system, as find(1) prints it: type letter (f, d, l, ...), owner, mode.</summary>
public sealed record RootFsEntry(string Path, char Type, long Size, int Uid, int Gid, int Mode, string LinkTarget)
{
    /// <summary>find ROOT -mindepth 1, without following symbolic links (an absolute link must not reach the host).</summary>
    public static IReadOnlyList<RootFsEntry> List(string root)
    {
        var find = TestProcess.Run(Requirements.Program("find", "findutils"), [root, "-mindepth", "1", "-printf", @"%P\t%y\t%s\t%U\t%G\t%m\t%l\n"], TestTimeouts.Request)
            .GetAwaiter().GetResult();
        if (find.ExitCode != 0)
            throw new InvalidOperationException($"listing {root} failed:\n{find.Describe()}");
        return find.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            var f = line.Split('\t');
            return new RootFsEntry(f[0], f[1][0], long.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3], CultureInfo.InvariantCulture),
                int.Parse(f[4], CultureInfo.InvariantCulture), Convert.ToInt32(f[5], 8), f[6]);
        }).ToList();
    }
}
