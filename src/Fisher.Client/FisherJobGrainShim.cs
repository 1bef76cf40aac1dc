using Fisher.Contracts;

namespace Fisher.Client;

/// <summary>
/// The pre-rename name of <see cref="IFisherJobGrain.CancelAsync"/>, for <c>Sweep.cs</c> only: that file is being
/// rewritten elsewhere and still calls <c>Cancel()</c>. Delete this shim once it calls <c>CancelAsync</c>.
/// </summary>
internal static class FisherJobGrainShim
{
    /// <summary>Same as <c>CancelAsync()</c> without a token (the sweep calls it after its own token was cancelled).</summary>
    public static Task<JobStatus> Cancel(this IFisherJobGrain job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return job.CancelAsync(CancellationToken.None);
    }
}
