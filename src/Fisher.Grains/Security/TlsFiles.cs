namespace Fisher.Grains.Security;

/// <summary>
/// The PEM files of one party of a mutual-TLS Fisher cluster (a silo or a client): its certificate, its private key
/// and the cluster CA's certificate(s). A Kubernetes TLS secret mounted as files (<c>tls.crt</c>, <c>tls.key</c>,
/// <c>ca.crt</c>) fits as it is.
/// </summary>
public sealed record TlsFiles(string Certificate, string Key, string CertificateAuthority)
{
    /// <summary>
    /// The three files when all are given, null when none is; a partial set is an error naming the setting that is
    /// missing (<paramref name="names"/> are the settings' names in the caller's words, e.g. <c>--tls-key</c>).
    /// </summary>
    public static TlsFiles? FromSettings(string? certificate, string? key, string? authority, (string Certificate, string Key, string Authority) names)
    {
        bool none = string.IsNullOrWhiteSpace(certificate) && string.IsNullOrWhiteSpace(key) && string.IsNullOrWhiteSpace(authority);
        if (none)
            return null;
        var missing = new[] { (certificate, names.Certificate), (key, names.Key), (authority, names.Authority) }
            .Where(s => string.IsNullOrWhiteSpace(s.Item1)).Select(s => s.Item2).ToArray();
        if (missing.Length > 0)
            throw new TlsSetupException($"TLS needs a certificate, its key and the cluster CA: {string.Join(" and ", missing)} missing");
        return new TlsFiles(certificate!, key!, authority!);
    }
}
