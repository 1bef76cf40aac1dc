namespace Fisher.Data;

/// <summary>
/// A file that cannot be read as what it should be. The message always starts with the file, then names the field
/// or offset and what was expected, e.g. <c>data/x.npy: header: expected dtype '&lt;f4' or '&lt;f8', got '&lt;i2'</c>.
/// </summary>
public class DataFormatException : Exception
{
    /// <summary>Creates the exception; <paramref name="detail"/> names the field or offset and what was expected.</summary>
    public DataFormatException(string path, string detail, Exception? innerException = null)
        : base($"{path}: {detail}", innerException)
    {
        Path = path;
        Detail = detail;
    }

    /// <summary>The offending file as it was given.</summary>
    public string Path { get; }

    /// <summary>The message without the file name.</summary>
    public string Detail { get; }
}

/// <summary>
/// A weights file whose tensors do not match the architecture. <see cref="Problems"/> lists every offending key at
/// once: missing keys with the expected shape, unexpected keys with their shape, and shape mismatches.
/// </summary>
internal sealed class ModelMismatchException : DataFormatException
{
    /// <summary>Creates the exception from the list of problems (one line each).</summary>
    public ModelMismatchException(string path, IReadOnlyList<string> problems)
        : base(path, $"the weights do not match the architecture ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}): {string.Join("; ", problems)}")
    {
        Problems = problems;
    }

    /// <summary>One line per offending key, e.g. <c>2.weight: file has [10, 64], architecture expects [10, 128]</c>.</summary>
    public IReadOnlyList<string> Problems { get; }
}
