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
}
