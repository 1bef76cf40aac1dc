using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Fisher.Grains.Security;

/// <summary>
/// A party's certificate with its private key and the cluster CA it trusts, loaded from <see cref="TlsFiles"/> and
/// checked on load: the certificate is issued by that CA and currently valid, so a mix-up of files is reported at start
/// rather than as refused connections later.
/// </summary>
public sealed class TlsCredentials : IDisposable
{
    private TlsCredentials(X509Certificate2 certificate, X509Certificate2Collection authority)
    {
        Certificate = certificate;
        Authority = authority;
    }

    /// <summary>This party's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The cluster CA certificate(s): the only roots a peer's certificate may chain to.</summary>
    public X509Certificate2Collection Authority { get; }

    /// <summary>Loads and checks the files; every problem is a <see cref="TlsSetupException"/> naming the file.</summary>
    public static TlsCredentials Load(TlsFiles files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var authority = LoadAuthority(files.CertificateAuthority);
        var certificate = LoadCertificate(files.Certificate, files.Key);
        var now = DateTime.Now;
        if (now < certificate.NotBefore || now > certificate.NotAfter)
            throw new TlsSetupException($"TLS certificate '{files.Certificate}': valid from {certificate.NotBefore:u} to {certificate.NotAfter:u}, not now");
        if (!FisherTls.ChainsTo(certificate, authority, usage: null, presented: null))
            throw new TlsSetupException($"TLS certificate '{files.Certificate}': not issued by the cluster CA in '{files.CertificateAuthority}'");
        return new TlsCredentials(certificate, authority);
    }

    private static X509Certificate2Collection LoadAuthority(string path)
    {
        RequireFile(path, "cluster CA certificate");
        var authority = new X509Certificate2Collection();
        try
        {
            authority.ImportFromPemFile(path);
        }
        catch (CryptographicException e)
        {
            throw new TlsSetupException($"TLS cluster CA certificate '{path}': not a PEM certificate ({e.Message})", e);
        }
        if (authority.Count == 0)
            throw new TlsSetupException($"TLS cluster CA certificate '{path}': no PEM certificate (-----BEGIN CERTIFICATE-----) in it");
        return authority;
    }

    private static X509Certificate2 LoadCertificate(string certificatePath, string keyPath)
    {
        RequireFile(certificatePath, "certificate");
        RequireFile(keyPath, "private key");
        try
        {
            return X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            // ArgumentException: a key that does not belong to the certificate.
            throw new TlsSetupException($"TLS certificate '{certificatePath}' with key '{keyPath}': expected a PEM certificate and its matching PEM private key ({e.Message})", e);
        }
    }

    private static void RequireFile(string path, string what)
    {
        if (!File.Exists(path))
            throw new TlsSetupException($"TLS {what} '{path}': no such file");
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Certificate.Dispose();
        foreach (var c in Authority)
            c.Dispose();
    }
}
