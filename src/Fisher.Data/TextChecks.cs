namespace Fisher.Data;

/// <summary>
/// Names a reader may repeat in an error (a tensor key, a zip entry, a dtype): short and free of control characters, so
/// an error stays on one line; any other text of a file is never echoed.
/// </summary>
internal static class TextChecks
{
    /// <summary>The longest name a reader accepts and may repeat.</summary>
    public const int MaxNameLength = 1024;

    public static bool IsPrintable(string name) => name.Length <= MaxNameLength && !name.Any(char.IsControl);

    /// <summary>A library's message (never file content) on one line, at most 120 characters.</summary>
    public static string OneLine(string message)
    {
        var line = message.ReplaceLineEndings(" ");
        return line.Length > 120 ? line[..120] + "..." : line;
    }
}
