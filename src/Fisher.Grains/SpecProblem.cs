namespace Fisher.Grains;

/// <summary>One thing wrong with a job spec, in the domain's words.</summary>
/// <param name="Field">The <see cref="Fisher.Contracts.JobSpec"/> property it concerns (a CLI maps it to its flag).</param>
/// <param name="Message">What is wrong and what was expected ("must be at least 1, got 0").</param>
public sealed record SpecProblem(string Field, string Message)
{
    /// <summary>The field in words ("DrawsPerInput" → "draws per input").</summary>
    public string FieldWords => string.Concat(Field.Select((c, i) => i > 0 && char.IsUpper(c) ? " " + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    public override string ToString() => $"{FieldWords}: {Message}";
}
