namespace Fisher.Tests;

/// <summary>The Debian programs the tests start themselves, and the message when one is missing.</summary>
public static class Requirements
{
    /// <summary>The path of <paramref name="program"/> (on PATH, or in /usr/bin or /usr/sbin); fails naming the package when absent.</summary>
    public static string Program(string program, string package)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/bin", "/usr/sbin"]);
        foreach (var dir in dirs)
        {
            var path = Path.Combine(dir, program);
            if (File.Exists(path))
                return path;
        }
        throw new InvalidOperationException(Missing(program, package));
    }

    /// <summary>"<paramref name="what"/> is missing (Debian package ...). Run the tests with tools/test.sh: it installs ..."</summary>
    public static string Missing(string what, params string[] packages)
    {
        var list = string.Join(' ', packages);
        return $"{what} is missing (Debian package{(packages.Length > 1 ? "s" : "")} {list}). Run the tests with tools/test.sh: it installs " +
            $"the Debian packages the tests need, then runs dotnet test (or install them: apt-get install {list}).";
    }
}
