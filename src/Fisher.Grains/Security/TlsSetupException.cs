namespace Fisher.Grains.Security;

/// <summary>
/// A TLS file that cannot be used: missing, not PEM, a key that does not match its certificate, a certificate not
/// issued by the cluster CA or out of its validity period. The message is one line naming the file and what was
/// expected; it never holds the file's content.
/// </summary>
public sealed class TlsSetupException : Exception
{
    /// <summary>Creates the exception with its one-line message.</summary>
    public TlsSetupException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
