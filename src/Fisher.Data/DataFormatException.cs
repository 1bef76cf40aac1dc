namespace Fisher.Data;

/// <summary>
/// A file that cannot be read as what it should be. The message always starts with the file, then names the field
/// or offset and what was expected, e.g. <c>data/x.npy: header: expected dtype '&lt;f4' or '&lt;f8', got '&lt;i2'</c>.
/// The message is one line: control characters (a line break in a name or path) are shown as '?'.
/// </summary>
public class DataFormatException : Exception
{
    /// <summary>Creates the exception; <paramref name="detail"/> names the field or offset and what was expected.</summary>
    public DataFormatException(string path, string detail, Exception? innerException = null)
        : base(OneLine($"{path}: {detail}"), innerException)
    {
        Path = path;
        Detail = detail;
    }

    /// <summary>The offending file as it was given.</summary>
    public string Path { get; }

    /// <summary>The message without the file name.</summary>
    public string Detail { get; }

    private static string OneLine(string message) =>
        message.Any(char.IsControl) ? string.Concat(message.Select(c => char.IsControl(c) ? '?' : c)) : message;
}
