namespace Fisher.Client;

/// <summary>
/// The exit codes of every <c>fisher</c> command (the README's table mirrors this list). Each failure also prints one
/// line on stderr, <c>error: ...</c>; <c>--verbose</c> adds the exception's stack trace.
/// </summary>
internal static class ExitCodes
{
    /// <summary>Done: the job completed, the result was written, the command did what it says.</summary>
    public const int Success = 0;

    /// <summary><c>fisher watch</c>: the job ended Failed or Cancelled (its state and error are printed).</summary>
    public const int JobEndedUnsuccessfully = 1;

    /// <summary>Refused or failed: bad arguments or input files, a job that failed (its reason), a result folder taken.</summary>
    public const int Refused = 2;

    /// <summary>No cluster: no gateway answered, Redis unreachable, TLS or authentication refused, within --connect-timeout.</summary>
    public const int Unreachable = 3;

    /// <summary>The cluster has no record of the job: never submitted, or lost with a reset state store.</summary>
    public const int JobUnknown = 4;

    /// <summary>Connected, but the cluster did not answer about the job for longer than --patience.</summary>
    public const int NoAnswer = 5;

    /// <summary>Interrupted (Ctrl+C: <c>estimate</c> cancels its job first; SIGTERM: a cluster job keeps running).</summary>
    public const int Interrupted = 130;

    /// <summary>A failure the CLI has no better word for (a bug: please report it with --verbose).</summary>
    public const int Unexpected = 70;
}
