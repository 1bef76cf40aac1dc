namespace Fisher.Client;

/// <summary>A command cannot go on; the message is the one line for the user and <see cref="ExitCode"/> one of <see cref="ExitCodes"/>.</summary>
internal sealed class CommandFailedException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
