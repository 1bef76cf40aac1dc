using System.CommandLine;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Grains;
using Fisher.Grains.Security;
using Fisher.Results;
using Spectre.Console;

namespace Fisher.Client;

/// <summary>Option handling shared by the commands.</summary>
internal static class Cli
{
    /// <summary>Runs a command body, turning the errors a user can cause into one red line and exit code 2.</summary>
    public static async Task<int> Run(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception e) when (e is JobFailedException or JobSpecException or DataFormatException or ArgumentException or FileNotFoundException or ResultFolderTakenException or TlsSetupException or RedisAccessException)
        {
            AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
            return 2;
        }
        catch (OperationCanceledException)
        {
            AnsiConsole.MarkupLine("[yellow]cancelled[/]");
            return 130;
        }
    }

    public static string NewJobId() =>
        $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>
    /// The embedded silo unless <paramref name="redis"/> or <paramref name="gateway"/> names a cluster;
    /// <paramref name="metricsPort"/> applies to the embedded silo only.
    /// </summary>
    public static Task<ClusterConnection> Connect(string? redis, string? gateway, TlsFiles? tls, bool verbose, int? metricsPort, CancellationToken cancellation) =>
        redis is null && gateway is null
            ? ClusterConnection.StartEmbedded(verbose, metricsPort, cancellation)
            : ClusterConnection.Connect(redis, gateway, tls, verbose, cancellation);

    public static Task<ClusterConnection> ConnectCluster(string? redis, string? gateway, TlsFiles? tls, bool verbose, CancellationToken cancellation) =>
        redis is null && gateway is null
            ? throw new ArgumentException("this command needs a running cluster: give --cluster <redis connection string> or --gateway <host:port>")
            : ClusterConnection.Connect(redis, gateway, tls, verbose, cancellation);

    public static JobSpec BuildSpec(ParseResult result, Option<string?> model, Option<string?> architecture, Option<string?> data, Option<string?> labels, JobOptions job)
    {
        var modelPath = result.GetValue(model);
        var architecturePath = result.GetValue(architecture);
        var dataPath = result.GetValue(data);
        var labelsPath = result.GetValue(labels);
        if (modelPath is null || architecturePath is null || dataPath is null)
        {
            var sample = Sample.Find();
            modelPath ??= sample.Model;
            architecturePath ??= Path.Combine(Path.GetDirectoryName(Path.GetFullPath(modelPath))!, "model.json");
            if (dataPath is null)
            {
                dataPath = sample.Images;
                labelsPath ??= sample.Labels;
            }
        }
        foreach (var (path, option) in new[] { (modelPath, "--model"), (architecturePath, "--architecture"), (dataPath, "--data"), (labelsPath, "--labels") })
        {
            if (path is not null && !File.Exists(path))
                throw new ArgumentException($"{option}: no file '{path}'");
        }
        return job.ToSpec(result, modelPath, architecturePath, dataPath, labelsPath);
    }
}

/// <summary>The bundled sample: samples/fashion-mnist in the repository (found from the working folder or the program's folder upwards).</summary>
internal sealed record Sample(string Model, string Images, string Labels)
{
    private const string Folder = "samples/fashion-mnist";

    public static Sample Find()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var folder = Path.Combine(dir.FullName, Folder);
                if (File.Exists(Path.Combine(folder, "model.pt")))
                    return new Sample(Path.Combine(folder, "model.pt"), Path.Combine(folder, "t10k-2000-images-idx3-ubyte.gz"), Path.Combine(folder, "t10k-2000-labels-idx1-ubyte.gz"));
            }
        }
        throw new ArgumentException($"no --model/--data given and the bundled sample ({Folder}) was not found above {Directory.GetCurrentDirectory()}; give --model, --architecture and --data");
    }
}
