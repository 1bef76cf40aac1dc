namespace Fisher.Data;

/// <summary>
/// A user-named file a process may not read (<see cref="DataRoots.Resolve"/>): missing, outside the data roots or not
/// a regular file. The message starts with the path as given, then what was expected; it never holds file content.
/// </summary>
public sealed class DataPathException : IOException
{
    /// <summary>Creates the exception; <paramref name="detail"/> says what is wrong and what was expected.</summary>
    public DataPathException(string path, string detail)
        : base($"{path}: {detail}")
    {
        Path = path;
        Detail = detail;
    }

    /// <summary>The path as it was given.</summary>
    public string Path { get; }

    /// <summary>The message without the path.</summary>
    public string Detail { get; }
}
