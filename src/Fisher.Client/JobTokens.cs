namespace Fisher.Client;

/// <summary>
/// Where the CLI finds a job's access token: <c>--token</c>, else <c>FISHER_JOB_TOKEN</c>, else the file
/// <c>fisher submit</c> saved for the submitting user, <c>$XDG_CONFIG_HOME/fisher/jobs/&lt;id&gt;.token</c> (default
/// <c>~/.config</c>), readable by that user only (mode 0600, in a folder of mode 0700).
/// </summary>
internal static class JobTokens
{
    /// <summary>The environment variable a token may come from.</summary>
    public const string Variable = "FISHER_JOB_TOKEN";

    /// <summary>Where tokens are saved, as help texts say it.</summary>
    public const string SavedFile = "$XDG_CONFIG_HOME/fisher/jobs/<id>.token";

    /// <summary>The folder of saved tokens.</summary>
    public static string Folder
    {
        get
        {
            var config = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            if (string.IsNullOrEmpty(config) || !Path.IsPathFullyQualified(config))
                config = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            return Path.Combine(config, "fisher", "jobs");
        }
    }

    /// <summary>The saved token file of a job (a job id is a name, never a path).</summary>
    public static string PathOf(string jobId) => Path.Combine(Folder, jobId + ".token");

    /// <summary>Saves the token for the current user only (replaced in one step) and returns the file's path.</summary>
    public static string Save(string jobId, string token)
    {
        var path = PathOf(jobId);
        var folder = Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(folder);
        else
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var temp = Path.Combine(folder, $".{jobId}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var writer = new StreamWriter(temp, options))
            writer.WriteLine(token);
        File.Move(temp, path, overwrite: true);
        return path;
    }

    /// <summary>The token given, else the environment's, else the saved one; null when there is none.</summary>
    public static string? TryFind(string jobId, string? given)
    {
        foreach (var candidate in new[] { given, Environment.GetEnvironmentVariable(Variable) })
        {
            if (!string.IsNullOrWhiteSpace(candidate))
                return candidate.Trim();
        }
        var path = PathOf(jobId);
        return File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } saved ? saved : null;
    }

    /// <summary>As <see cref="TryFind"/>, or a one-line error saying where a token is looked for.</summary>
    public static string Find(string jobId, string? given) => TryFind(jobId, given)
        ?? throw new ArgumentException($"job {jobId}: no token found: give --token, set {Variable}, or run as the user who submitted it (submit saves it in {PathOf(jobId)})");
}
