namespace Fisher.Contracts;

/// <summary>A call on a job without its access token (or with another one): refused, and nothing changed.</summary>
[GenerateSerializer, Alias("fisher.JobAccessDeniedException")]
public sealed class JobAccessDeniedException : Exception
{
    public JobAccessDeniedException()
    {
    }

    public JobAccessDeniedException(string jobId)
        : base($"job {jobId}: access denied (wrong or missing token)")
    {
    }

    public JobAccessDeniedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
