using System.CommandLine;
using Fisher.Grains.Security;

namespace Fisher.Client;

/// <summary>
/// <c>--tls-cert</c>, <c>--tls-key</c>, <c>--tls-ca</c> of every command that talks to a cluster (defaults: the
/// <c>FISHER_TLS_CERT</c>, <c>FISHER_TLS_KEY</c>, <c>FISHER_TLS_CA</c> environment variables): the client's PEM
/// certificate and key and the cluster CA, for a cluster that requires mutual TLS (docs/security.md).
/// </summary>
internal sealed class TlsFlags
{
    private readonly Option<string?> _certificate = new("--tls-cert") { Description = "Client certificate (PEM) for a cluster with mutual TLS. Default: $FISHER_TLS_CERT.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("FISHER_TLS_CERT") };
    private readonly Option<string?> _key = new("--tls-key") { Description = "Private key (PEM) of --tls-cert. Default: $FISHER_TLS_KEY.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("FISHER_TLS_KEY") };
    private readonly Option<string?> _authority = new("--tls-ca") { Description = "The cluster's CA certificate (PEM); the gateway must present a silo certificate it issued. Default: $FISHER_TLS_CA.", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("FISHER_TLS_CA") };

    /// <summary>The three options, to add to a command.</summary>
    public Option[] All => [_certificate, _key, _authority];

    /// <summary>The files given, or null for a cluster without TLS; a partial set is a one-line error.</summary>
    public TlsFiles? Files(ParseResult result) =>
        TlsFiles.FromSettings(result.GetValue(_certificate), result.GetValue(_key), result.GetValue(_authority), ("--tls-cert", "--tls-key", "--tls-ca"));
}
