using System.CommandLine;
using Fisher.Grains.Security;

namespace Fisher.Client;

/// <summary><c>fisher dev-certs --out dir</c>: a development certificate set for a mutual-TLS cluster (<see cref="DevCertificates"/>).</summary>
internal static class DevCertsCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Folder for ca.crt, silo.crt, silo.key, client.crt, client.key (must not hold them already).", Required = true };
        var names = new Option<string[]>("--name") { Description = "Extra DNS name or IP address of the silos, for the silo certificate (loopback and localhost are always in it); repeatable.", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] };
        var command = new Command("dev-certs", "Make a development certificate set: a cluster CA, a silo certificate and a client certificate (PEM; keys owner-only).") { output, names };
        command.SetAction((result, _) => Cli.Run(() =>
        {
            var folder = result.GetValue(output)!;
            DevCertificates.Create(folder, result.GetValue(names) ?? []);
            var silo = DevCertificates.Silo(folder);
            var client = DevCertificates.Client(folder);
            Console.WriteLine($"silo:   --Fisher:Tls:Certificate={silo.Certificate} --Fisher:Tls:Key={silo.Key} --Fisher:Tls:CA={silo.CertificateAuthority}");
            Console.WriteLine($"client: --tls-cert {client.Certificate} --tls-key {client.Key} --tls-ca {client.CertificateAuthority}");
            return Task.FromResult(0);
        }));
        return command;
    }
}
