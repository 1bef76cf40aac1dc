using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Configuration;
using Orleans.Connections.Security;
using Orleans.Hosting;

namespace Fisher.Grains.Security;

/// <summary>
/// Mutual TLS for a Fisher cluster (Orleans connection security): every connection, silo to silo and client to
/// gateway, is encrypted and both ends present a certificate that must chain to the cluster CA (and only to it: the
/// system's trust store plays no part). Roles come from the extended key usage: a silo's certificate is for server
/// and client authentication, a client's for client authentication only, so a client certificate opens a gateway
/// connection but never a silo-to-silo one.
/// </summary>
public static class FisherTls
{
    /// <summary>Extended key usage "TLS server authentication": what marks a silo's certificate.</summary>
    public const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    /// <summary>Extended key usage "TLS client authentication": every party's certificate has it.</summary>
    public const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    /// <summary>A handshake that has not finished in this time is dropped (a silent peer holds no connection).</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Silo ports accept only silos; the gateway accepts any certificate of the cluster CA; silos dial only silos.</summary>
    public static ISiloBuilder UseFisherTls(this ISiloBuilder silo, TlsCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(credentials);
        var silos = Options(credentials, ServerAuthentication);
        var clients = Options(credentials, ClientAuthentication);
        return silo.Configure<SiloConnectionOptions>(o =>
        {
            o.ConfigureSiloInboundConnection(c => c.UseServerTls(silos));
            o.ConfigureSiloOutboundConnection(c => c.UseClientTls(silos));
            o.ConfigureGatewayInboundConnection(c => c.UseServerTls(clients));
        });
    }

    /// <summary>A client presents its certificate and accepts only a gateway whose certificate is a silo's of the cluster CA.</summary>
    public static IClientBuilder UseFisherTls(this IClientBuilder client, TlsCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(credentials);
        var gateways = Options(credentials, ServerAuthentication);
        return client.Configure<ClientConnectionOptions>(o => o.ConfigureConnection(c => c.UseClientTls(gateways)));
    }

    private static TlsOptions Options(TlsCredentials credentials, string peerUsage) => new()
    {
        LocalCertificate = credentials.Certificate,
        RemoteCertificateMode = RemoteCertificateMode.RequireCertificate,
        ClientCertificateMode = RemoteCertificateMode.RequireCertificate,
        HandshakeTimeout = HandshakeTimeout,
        // Replaces the platform's check: the peer must chain to the cluster CA. Host names are not checked: silos are
        // reached at the addresses they advertise (pod IPs), which no certificate can list in advance.
        RemoteCertificateValidation = (peer, chain, errors) =>
            (errors & SslPolicyErrors.RemoteCertificateNotAvailable) == 0 &&
            ChainsTo(peer, credentials.Authority, peerUsage, chain?.ChainPolicy.ExtraStore),
    };

    /// <summary>
    /// True when <paramref name="certificate"/> chains to one of <paramref name="authority"/> (custom root trust, no
    /// revocation lookup) and, if <paramref name="usage"/> is given, is valid for that extended key usage.
    /// </summary>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection authority, string? usage, X509Certificate2Collection? presented)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(authority);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
            chain.ChainPolicy.ExtraStore.AddRange(presented);
        if (usage is not null)
            chain.ChainPolicy.ApplicationPolicy.Add(new Oid(usage));
        return chain.Build(certificate);
    }
}
