using System.Runtime.InteropServices;

namespace Fisher.Client;

/// <summary>
/// The CLI's stop signals. Ctrl+C (SIGINT) and SIGTERM (a Kubernetes pod being deleted or evicted, a supervisor) both
/// cancel the running command through <see cref="Token"/>; only Ctrl+C also cancels a cluster job that <c>estimate</c>
/// follows: after SIGTERM the job keeps running, and the same command run again re-attaches to it (its token is
/// saved), as a retried Kubernetes Job pod does. The first signal lets the command end on its own; a second one ends
/// the process at once. The signal is noted before the token is cancelled, so the command sees which one it was.
/// </summary>
internal static class Termination
{
    private static readonly CancellationTokenSource Source = new();
    private static volatile bool _terminated;
    private static int _signals;
    private static PosixSignalRegistration[] _registrations = [];

    /// <summary>Cancelled by the first SIGINT or SIGTERM.</summary>
    public static CancellationToken Token => Source.Token;

    /// <summary>SIGTERM arrived (not Ctrl+C).</summary>
    public static bool Requested => _terminated;

    /// <summary>Takes over SIGINT and SIGTERM for the life of the process.</summary>
    public static void Watch()
    {
        if (_registrations.Length > 0)
            return;
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    private static void Handle(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _signals) > 1)
            return; // the second signal: the default handling ends the process
        context.Cancel = true;
        if (context.Signal == PosixSignal.SIGTERM)
            _terminated = true;
        Source.Cancel();
    }
}
