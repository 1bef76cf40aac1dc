namespace Fisher.Grains;

/// <summary>
/// A job spec that cannot run: the message names the file, spec field or layer and what was expected. Problems with
/// the spec's own fields are also in <see cref="Problems"/>, so a CLI can name its flags instead.
/// </summary>
public sealed class JobSpecException : Exception
{
    public JobSpecException(string message) : base(message) { }

    public JobSpecException(string message, Exception inner) : base(message, inner) { }

    public JobSpecException(params IReadOnlyList<SpecProblem> problems) : base(string.Join("; ", problems))
    {
        Problems = problems;
    }

    public JobSpecException() { }

    /// <summary>The spec fields at fault (empty when the problem is a file).</summary>
    public IReadOnlyList<SpecProblem> Problems { get; } = [];
}
