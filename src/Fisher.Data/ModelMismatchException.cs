namespace Fisher.Data;

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
