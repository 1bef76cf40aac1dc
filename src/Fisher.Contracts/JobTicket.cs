namespace Fisher.Contracts;

/// <summary>
/// The answer to a job's submission: its status and, for the call that created the job, its access token. The token
/// is given out once, here; a later submission of the same id gets none.
/// </summary>
/// <param name="Status">The job's status after the submission.</param>
/// <param name="Token">The job's access token (null: the job existed before this call).</param>
[GenerateSerializer, Immutable, Alias("fisher.JobTicket")]
public sealed record JobTicket(
    [property: Id(0)] JobStatus Status,
    [property: Id(1)] string? Token)
{
    /// <summary>Keeps the token out of logs and traces that print the ticket.</summary>
    public override string ToString() => $"JobTicket {{ Status = {Status}, Token = {(Token is null ? "none" : "(hidden)")} }}";
}
