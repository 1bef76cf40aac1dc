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
    private static readonly IAnsiConsole Errors = ErrorConsole();

    /// <summary>Stderr; redirected, it is not wrapped (one message, one line).</summary>
    private static IAnsiConsole ErrorConsole()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        if (Console.IsErrorRedirected)
            console.Profile.Width = 4096;
        return console;
    }

    /// <summary>
    /// Runs a command body, turning every failure into one line on stderr (<c>error: ...</c>) and one of
    /// <see cref="ExitCodes"/>; with <paramref name="verbose"/> the exception's stack trace follows the line.
    /// </summary>
    public static async Task<int> Run(Func<Task<int>> body, bool verbose = false)
    {
        try
        {
            return await body();
        }
        catch (OperationCanceledException)
        {
            Errors.MarkupLine("[yellow]cancelled[/]");
            return ExitCodes.Interrupted;
        }
#pragma warning disable CA1031 // the process boundary: every failure becomes one line and an exit code
        catch (Exception e)
#pragma warning restore CA1031
        {
            var (code, message) = Classify(e);
            Errors.MarkupLine($"[red]error:[/] {Markup.Escape(OneLine(message))}");
            if (verbose)
                Console.Error.WriteLine(e.ToString());
            return code;
        }
    }

    /// <summary>The exit code and message of a failure (<see cref="ExitCodes"/>).</summary>
    private static (int Code, string Message) Classify(Exception e) => e switch
    {
        CommandFailedException c => (c.ExitCode, c.Message),
        JobFailedException or JobAccessDeniedException or JobSpecException or DataFormatException or ArgumentException or IOException or UnauthorizedAccessException or ResultFolderTakenException or TlsSetupException or RedisAccessException
            => (ExitCodes.Refused, e.Message),
        TimeoutException or OrleansException => (ExitCodes.NoAnswer, $"the cluster did not answer ({e.GetType().Name}: {e.Message})"),
        _ => (ExitCodes.Unexpected, $"unexpected {e.GetType().Name}: {e.Message} (run with --verbose for the stack trace and please report it)"),
    };

    private static string OneLine(string message) =>
        string.Join("; ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>
    /// The embedded silo unless <paramref name="redis"/> or <paramref name="gateway"/> names a cluster;
    /// <paramref name="metricsPort"/> applies to the embedded silo only.
    /// </summary>
    public static Task<ClusterConnection> Connect(string? redis, string? gateway, TlsFiles? tls, bool verbose, int? metricsPort, CancellationToken cancellation, TimeSpan? connectTimeout = null) =>
        redis is null && gateway is null
            ? ClusterConnection.StartEmbedded(verbose, metricsPort, cancellation)
            : ClusterConnection.Connect(redis, gateway, tls, verbose, connectTimeout ?? ClusterConnection.DefaultConnectTimeout, cancellation);

    public static Task<ClusterConnection> ConnectCluster(string? redis, string? gateway, TlsFiles? tls, bool verbose, CancellationToken cancellation, TimeSpan? connectTimeout = null) =>
        redis is null && gateway is null
            ? throw new ArgumentException("this command needs a running cluster: give --cluster <redis connection string> or --gateway <host:port>")
            : ClusterConnection.Connect(redis, gateway, tls, verbose, connectTimeout ?? ClusterConnection.DefaultConnectTimeout, cancellation);

    public static JobSpec BuildSpec(ParseResult result, Option<string?> model, Option<string?> architecture, Option<string?> data, Option<string?> labels, JobOptions job)
    {
        var modelPath = result.GetValue(model);
        var architecturePath = result.GetValue(architecture);
        var dataPath = result.GetValue(data);
        var labelsPath = result.GetValue(labels);
        // An ONNX model defines its layers: its likelihood comes from --architecture (the head form) or --likelihood, never
        // from a model.json found next to it or the bundled MLP's.
        bool onnx = modelPath is not null && ModelSource.IsOnnx(modelPath);
        if (onnx && architecturePath is null && result.GetValue(job.Likelihood) is null)
            throw new ArgumentException($"--model {modelPath}: an ONNX model needs --architecture (a JSON of likelihood, variance and input scaling) or --likelihood");
        if (modelPath is null || (architecturePath is null && !onnx) || dataPath is null)
        {
            var sample = Sample.Find();
            modelPath ??= sample.Model;
            if (!onnx)
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
