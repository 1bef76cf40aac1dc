using Fisher.Grains.Security;

namespace Fisher.Silo;

/// <summary>
/// The silo's TLS settings: <c>Fisher:Tls:Certificate</c>, <c>Fisher:Tls:Key</c>, <c>Fisher:Tls:CA</c> (PEM files) or
/// <c>Fisher:Tls:Disabled=true</c>. A silo of a Redis cluster refuses to start without one of them: its ports are meant
/// to be reached from other machines. A localhost-clustering silo (one silo, ports on loopback) may run without TLS.
/// </summary>
internal static class SiloTls
{
    public const string CertificateKey = "Fisher:Tls:Certificate", KeyKey = "Fisher:Tls:Key", AuthorityKey = "Fisher:Tls:CA", DisabledKey = "Fisher:Tls:Disabled";

    /// <summary>The loaded credentials, null when TLS is off (allowed as described above), or a one-line error.</summary>
    public static TlsCredentials? Load(IConfiguration config, bool clustered)
    {
        ArgumentNullException.ThrowIfNull(config);
        var files = TlsFiles.FromSettings(config[CertificateKey], config[KeyKey], config[AuthorityKey], (CertificateKey, KeyKey, AuthorityKey));
        bool disabled = config.GetValue(DisabledKey, false);
        if (files is not null && disabled)
            throw new SiloSettingException($"{DisabledKey}=true and {CertificateKey} are both set: choose one");
        if (files is null && clustered && !disabled)
            throw new SiloSettingException($"a Redis cluster silo needs TLS: set {CertificateKey}, {KeyKey} and {AuthorityKey} (fisher dev-certs makes a set), or {DisabledKey}=true for an insecure test cluster");
        return files is null ? null : TlsCredentials.Load(files);
    }
}
