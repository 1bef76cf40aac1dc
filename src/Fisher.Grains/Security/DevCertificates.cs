using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Fisher.Grains.Security;

/// <summary>
/// A development certificate set for a mutual-TLS cluster (<c>fisher dev-certs</c>, and the tests): a CA, one silo
/// certificate (server and client authentication; loopback addresses, localhost and the given names) and one client
/// certificate (client authentication), written as PEM. Keys are ECDSA P-256, written owner-only (0600); the CA's key is
/// not written, so no further certificate can be issued from the set (make a new set instead).
/// </summary>
public static class DevCertificates
{
    /// <summary>File names inside the folder.</summary>
    public const string CaFile = "ca.crt", SiloCertificateFile = "silo.crt", SiloKeyFile = "silo.key", ClientCertificateFile = "client.crt", ClientKeyFile = "client.key";

    /// <summary>How long the certificates are valid.</summary>
    public static readonly TimeSpan Validity = TimeSpan.FromDays(365);

    /// <summary>The silo's files in the folder.</summary>
    public static TlsFiles Silo(string folder) => new(Path.Combine(folder, SiloCertificateFile), Path.Combine(folder, SiloKeyFile), Path.Combine(folder, CaFile));

    /// <summary>The client's files in the folder.</summary>
    public static TlsFiles Client(string folder) => new(Path.Combine(folder, ClientCertificateFile), Path.Combine(folder, ClientKeyFile), Path.Combine(folder, CaFile));

    /// <summary>
    /// Writes a new set into <paramref name="folder"/> (created if needed; existing files are never overwritten);
    /// <paramref name="names"/> are extra DNS names or IP addresses of the silos.
    /// </summary>
    public static void Create(string folder, IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        Directory.CreateDirectory(folder);
        foreach (var file in new[] { CaFile, SiloCertificateFile, SiloKeyFile, ClientCertificateFile, ClientKeyFile })
        {
            if (File.Exists(Path.Combine(folder, file)))
                throw new TlsSetupException($"dev-certs: '{Path.Combine(folder, file)}' exists; give an empty or new folder");
        }
        var notBefore = DateTimeOffset.UtcNow.AddMinutes(-5);
        var notAfter = notBefore + Validity;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=Fisher cluster CA (development)", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(notBefore, notAfter);
        WritePublic(Path.Combine(folder, CaFile), ca.ExportCertificatePem());
        Issue(ca, "CN=Fisher silo (development)", SiloNames(names), [FisherTls.ServerAuthentication, FisherTls.ClientAuthentication], folder, SiloCertificateFile, SiloKeyFile);
        Issue(ca, "CN=Fisher client (development)", null, [FisherTls.ClientAuthentication], folder, ClientCertificateFile, ClientKeyFile);
    }

    private static SubjectAlternativeNameBuilder SiloNames(IEnumerable<string> names)
    {
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddIpAddress(IPAddress.IPv6Loopback);
        san.AddDnsName("localhost");
        foreach (var name in names.Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => n.Trim()))
        {
            if (IPAddress.TryParse(name, out var address))
                san.AddIpAddress(address);
            else
                san.AddDnsName(name);
        }
        return san;
    }

    private static void Issue(X509Certificate2 ca, string subject, SubjectAlternativeNameBuilder? names, string[] usages, string folder, string certificateFile, string keyFile)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var oids = new OidCollection();
        foreach (var usage in usages)
            oids.Add(new Oid(usage));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(oids, false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        if (names is not null)
            request.CertificateExtensions.Add(names.Build());
        var serialNumber = RandomNumberGenerator.GetBytes(16);
        serialNumber[0] &= 0x7f; // a positive serial number
        using var certificate = request.Create(ca, ca.NotBefore, ca.NotAfter, serialNumber);
        WriteSecret(Path.Combine(folder, keyFile), key.ExportPkcs8PrivateKeyPem());
        WritePublic(Path.Combine(folder, certificateFile), certificate.ExportCertificatePem());
    }

    private static void WritePublic(string path, string pem) => File.WriteAllText(path, pem + "\n");

    /// <summary>Created owner-only (0600 on Unix) before the first byte is written.</summary>
    private static void WriteSecret(string path, string pem)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var writer = new StreamWriter(path, System.Text.Encoding.ASCII, options);
        writer.Write(pem);
        writer.Write('\n');
    }
}
