namespace Fisher.Tests;

/// <summary>
/// A new folder outside every data root the test silos are given (the bundled samples and the temporary folder, see
/// <c>TestProcess.DataRootArguments</c> and <c>TestData.DataRoots</c>): under <c>/var/tmp</c>, else the user's home.
/// Not under the test's own output folder, which may itself lie in the temporary folder (a clone in /tmp).
/// </summary>
public static class OutsideRoots
{
    public static string Create()
    {
        string temp = Path.GetFullPath(Path.GetTempPath());
        foreach (var parent in new[] { "/var/tmp", Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) })
        {
            if (string.IsNullOrEmpty(parent) || !Directory.Exists(parent))
                continue;
            var folder = Path.GetFullPath(Path.Combine(parent, "fisher-outside-roots-" + Guid.NewGuid().ToString("N")[..8]));
            if (folder.StartsWith(temp, StringComparison.Ordinal))
                continue;
            try
            {
                return Directory.CreateDirectory(folder).FullName;
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        throw new InvalidOperationException($"no writable folder outside the temporary folder {temp} for files outside the data roots (tried /var/tmp and the home folder)");
    }
}
