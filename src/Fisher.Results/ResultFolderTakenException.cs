namespace Fisher.Results;

/// <summary>
/// A result folder that is already there (another job's results, or any other files): results are never written over.
/// <see cref="KeptIn"/> says where this job's files are when they were already written.
/// </summary>
public sealed class ResultFolderTakenException : IOException
{
    public ResultFolderTakenException(string folder, string? keptIn = null)
        : base(keptIn is null
            ? $"{folder}: the folder already exists and is not empty; give a new folder (results are never written over)"
            : $"{folder}: another job wrote this folder while this one ran; this job's results are in {keptIn}")
    {
        Folder = folder;
        KeptIn = keptIn;
    }

    public ResultFolderTakenException() { }

    public ResultFolderTakenException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The folder asked for.</summary>
    public string Folder { get; } = "";

    /// <summary>Where this job's files were put instead, or null when nothing was written.</summary>
    public string? KeptIn { get; }
}
