using System.CommandLine;
using System.Globalization;
using Fisher.Contracts;
using Fisher.Estimators;
using Fisher.Results;
using Spectre.Console;

namespace Fisher.Client;

/// <summary>
/// <c>fisher estimate</c> (a whole job, embedded silo or cluster), <c>submit</c>, and the commands on a submitted job:
/// <c>status</c>, <c>watch</c>, <c>fetch</c>, <c>cancel</c>, which need the job's access token (<see cref="JobTokens"/>).
/// The options they share are defined once, here and in <see cref="JobOptions"/>.
/// </summary>
internal sealed class JobCommands
{
    private readonly Option<string?> _model = new("--model") { Description = "Weights: a PyTorch state_dict saved by torch.save (zip) or a safetensors file, with the architecture's key names (nn.Sequential's 0.weight, 0.bias, ... for an MLP; each graph layer's module name, e.g. conv1.weight), or an ONNX model (.onnx) as torch.onnx.export wrote it. Default: the bundled Fashion-MNIST MLP." };
    private readonly Option<string?> _architecture = new("--architecture") { Description = "Architecture JSON: widths and activations, or inputShape and layers (a CNN); likelihood, variance, input scaling. For an ONNX model only likelihood, variance and input scaling (or give --likelihood instead). Default: model.json next to a state_dict model." };
    private readonly Option<string?> _data = new("--data") { Description = "Inputs: IDX (plain or .gz) or NPY; samples flat or (C, H, W), (H, W), (L) for a graph. Default: the bundled 2,000 Fashion-MNIST test images." };
    private readonly Option<string?> _labels = new("--labels") { Description = "Observed labels (IDX or NPY), for the empirical Fisher. Default: the bundled labels when --data is default." };
    private readonly JobOptions _job = new();
    private readonly Option<int> _maxTasks = new("--max-tasks") { Description = "Tasks running at once (0: two per active silo).", DefaultValueFactory = _ => 0 };
    private readonly Option<double?> _target = new("--target-rel-error") { Description = "Stop as soon as every group's requested estimates have relative error below this with probability 1-δ (Chebyshev; checked between rounds of shards). Use more --shards for finer rounds." };
    private readonly Option<double> _delta = new("--delta") { Description = "δ for --target-rel-error and the sample sizes in the report.", DefaultValueFactory = _ => JobSpec.DefaultDelta };
    private readonly Option<string?> _output = new("--out") { Description = "Result folder (fisher.safetensors, summary.json, report.md, plots/). Default: results/<job id>." };
    private readonly Option<string?> _cluster = new("--cluster") { Description = "Run on a cluster of Fisher.Silo processes found through this Redis connection string (e.g. 127.0.0.1:6379). Absent: an in-process silo." };
    private readonly Option<string?> _gateway = new("--gateway") { Description = "Run on a cluster reached through this silo gateway (host:port), e.g. a single Fisher.Silo without Redis." };
    private readonly TlsFlags _tls = new();
    private readonly Option<int?> _metricsPort = new("--metrics-port") { Description = "Serve the embedded silo's Prometheus /metrics on 127.0.0.1:N while the job runs." };
    private readonly Option<string?> _jobIdOption = new("--job-id") { Description = "Job id: a name, not a secret (default: a new, unguessable one). The job's access token protects it." };
    private readonly Option<string?> _token = new("--token") { Description = $"The job's access token, printed by submit (default: ${JobTokens.Variable}, else the file submit saved for its user, {JobTokens.SavedFile}). A command line is visible to other users of the machine: prefer the variable or the file." };
    private readonly Option<bool> _noProgress = new("--no-progress") { Description = "No progress bar." };
    private readonly Option<bool> _verbose = new("--verbose") { Description = "Log the silo's and client's information messages." };
    private readonly Option<double> _connectTimeout = new("--connect-timeout") { Description = "Seconds to keep trying to reach a cluster before giving up (exit code 3).", DefaultValueFactory = _ => ClusterConnection.DefaultConnectTimeout.TotalSeconds };
    private readonly Option<double> _patience = new("--patience") { Description = "Seconds to keep asking about a job while the cluster does not answer (its coordinator's silo lost, say) before giving up (exit code 5).", DefaultValueFactory = _ => JobFollower.DefaultPatience.TotalSeconds };
    private readonly Argument<string> _jobId = new("job-id") { Description = "The job id printed by submit." };

    /// <summary>Every command of this kind.</summary>
    public IEnumerable<Command> Create() => [Estimate(), Submit(), Status(), Watch(), Fetch(), Cancel()];

    private Option[] SpecOptions => [_model, _architecture, _data, _labels, .. _job.All, _maxTasks, _target, _delta];

    /// <summary>The spec the options describe (files resolved, text parsed once).</summary>
    private JobSpec Spec(ParseResult result) =>
        Cli.BuildSpec(result, _model, _architecture, _data, _labels, _job) with
        {
            MaxConcurrentTasks = result.GetValue(_maxTasks),
            TargetRelativeError = result.GetValue(_target),
            Delta = result.GetValue(_delta),
        };

    private Command Estimate()
    {
        var command = new Command("estimate", "Run a whole job and write its results: an in-process silo by default, or a cluster with --cluster/--gateway (the job's access token is then saved as submit saves it).");
        foreach (var option in SpecOptions.Concat([_output, _cluster, _gateway, .. _tls.All, _connectTimeout, _patience, _jobIdOption, _metricsPort, _noProgress, _verbose]))
            command.Options.Add(option);
        command.SetAction((result, cancellation) => Cli.Run(async () =>
        {
            var spec = Spec(result);
            var id = JobId(result);
            var folder = result.GetValue(_output) ?? Path.Combine("results", id);
            ResultFolder.EnsureFree(folder);
            await using var connection = await Cli.Connect(result.GetValue(_cluster), result.GetValue(_gateway), _tls.Files(result), result.GetValue(_verbose), result.GetValue(_metricsPort), cancellation, Seconds(result, _connectTimeout));
            AnsiConsole.MarkupLine($"Job [bold]{id}[/] on the {Markup.Escape(connection.Description)}: {Markup.Escape(spec.Quantities.ToKeyList())} for {Markup.Escape(Path.GetFileName(spec.ModelPath))} on {Markup.Escape(Path.GetFileName(spec.InputsPath))}");
            var (_, token) = await JobRunner.Submit(connection.Client, id, spec, JobTokens.TryFind(id, null));
            if (result.GetValue(_cluster) is not null || result.GetValue(_gateway) is not null)
                JobTokens.Save(id, token); // the job outlives this process: watch, status and fetch can follow it
            try
            {
                var status = await JobRunner.Watch(Follower(connection, id, token, result), !result.GetValue(_noProgress), cancellation);
                var jobResult = await JobRunner.Fetch(connection.Client, status, token, folder);
                JobRunner.PrintTable(status, jobResult, folder);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                if (Termination.Requested && (result.GetValue(_cluster) is not null || result.GetValue(_gateway) is not null))
                {
                    // SIGTERM (a pod deleted or evicted): the job runs on; the same command re-attaches with the saved token.
                    Console.Error.WriteLine($"terminated: job {id} keeps running on the cluster; run the same command again (or fisher watch {id}) to follow it");
                    throw;
                }
                // The command's token is cancelled already: the cancel call itself must not carry it.
                await connection.Client.GetGrain<IFisherJobGrain>(id).CancelAsync(token, CancellationToken.None);
                throw;
            }
            return 0;
        }, result.GetValue(_verbose)));
        return command;
    }

    private Command Submit()
    {
        var command = new Command("submit", $"Start a job on a cluster and print its id and access token (then use watch, status, fetch, cancel). The token is given out once: it is also saved for this user in {JobTokens.SavedFile} (mode 0600).");
        foreach (var option in SpecOptions.Concat([_cluster, _gateway, .. _tls.All, _connectTimeout, _jobIdOption, _verbose]))
            command.Options.Add(option);
        command.SetAction((result, cancellation) => Cli.Run(async () =>
        {
            var spec = Spec(result);
            var id = JobId(result);
            await using var connection = await Cli.ConnectCluster(result.GetValue(_cluster), result.GetValue(_gateway), _tls.Files(result), result.GetValue(_verbose), cancellation, Seconds(result, _connectTimeout));
            var (status, token) = await JobRunner.Submit(connection.Client, id, spec, JobTokens.TryFind(id, null));
            var saved = JobTokens.Save(id, token);
            Console.WriteLine(id);
            Console.WriteLine(token);
            Console.Error.WriteLine($"started: {status.TasksTotal} tasks over {status.Inputs} inputs; job id and access token above (the token is saved in {saved}); fisher watch {id} / fisher fetch {id}");
            return 0;
        }, result.GetValue(_verbose)));
        return command;
    }

    private Command Status() => OnJob("status", "Print a job's state and progress.", async (connection, id, token, result, cancellation) =>
    {
        var s = await Follower(connection, id, token, result).NextAsync(cancellation);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{id}: {s.State}, {100 * s.Fraction:F1}% ({s.TasksCompleted}/{s.TasksTotal} tasks, {s.TasksRunning} running, {s.Redispatches} re-dispatched, {s.HandedBack} handed back, {s.StartsLost} starts lost){(s.Error is null ? "" : ": " + s.Error)}"));
        return ExitCodes.Success;
    });

    private Command Watch() => OnJob("watch", "Show a job's progress until it finishes.", async (connection, id, token, result, cancellation) =>
    {
        var s = await JobRunner.Watch(Follower(connection, id, token, result), progress: true, cancellation);
        Console.WriteLine($"{id}: {s.State}{(s.Error is null ? "" : ": " + s.Error)}");
        return s.State == JobState.Completed ? ExitCodes.Success : ExitCodes.JobEndedUnsuccessfully;
    });

    private Command Fetch() => OnJob("fetch", "Write a completed job's results (fisher.safetensors, summary.json, report.md, plots/) and print its table.", async (connection, id, token, result, cancellation) =>
    {
        var folder = result.GetValue(_output) ?? Path.Combine("results", id);
        ResultFolder.EnsureFree(folder);
        var s = await Follower(connection, id, token, result).NextAsync(cancellation);
        var jobResult = await JobRunner.Fetch(connection.Client, s, token, folder);
        JobRunner.PrintTable(s, jobResult, folder);
        return 0;
    }, _output);

    private Command Cancel() => OnJob("cancel", "Cancel a running job.", async (connection, id, token, result, cancellation) =>
    {
        var s = await JobFollower.Patiently(id, ct => connection.Client.GetGrain<IFisherJobGrain>(id).CancelAsync(token, ct), Seconds(result, _patience), cancellation);
        Console.WriteLine($"{id}: {s.State}");
        return 0;
    });

    /// <summary>Follows job <paramref name="id"/> with the command's --patience.</summary>
    private JobFollower Follower(ClusterConnection connection, string id, string token, ParseResult result) =>
        new(id, ct => connection.Client.GetGrain<IFisherJobGrain>(id).GetStatusAsync(token, ct), Seconds(result, _patience));

    /// <summary>A positive number of seconds given to <paramref name="option"/>.</summary>
    private static TimeSpan Seconds(ParseResult result, Option<double> option) =>
        result.GetValue(option) is var s && s > 0 && double.IsFinite(s) && s < TimeSpan.MaxValue.TotalSeconds / 2
            ? TimeSpan.FromSeconds(s)
            : throw new ArgumentException($"{option.Name}: expected a positive number of seconds, got {result.GetValue(option)}");

    /// <summary>The job id given (a name, never a path) or a new one.</summary>
    private string JobId(ParseResult result)
    {
        var id = result.GetValue(_jobIdOption) ?? JobIds.New();
        return JobIds.Problem(id) is { } problem ? throw new ArgumentException($"--job-id: {problem}") : id;
    }

    /// <summary>A command on one submitted job of a cluster, with the job's access token (found before connecting).</summary>
    private Command OnJob(string name, string description, Func<ClusterConnection, string, string, ParseResult, CancellationToken, Task<int>> action, params Option[] extra)
    {
        var command = new Command(name, description + " Needs the job's access token (--token).");
        command.Arguments.Add(_jobId);
        foreach (var option in new Option[] { _cluster, _gateway, _connectTimeout, _patience, _token, _verbose }.Concat(_tls.All).Concat(extra))
            command.Options.Add(option);
        command.SetAction((result, cancellation) => Cli.Run(async () =>
        {
            var id = result.GetValue(_jobId)!;
            if (JobIds.Problem(id) is { } problem)
                throw new ArgumentException($"job-id: {problem}");
            var token = JobTokens.Find(id, result.GetValue(_token));
            await using var connection = await Cli.ConnectCluster(result.GetValue(_cluster), result.GetValue(_gateway), _tls.Files(result), result.GetValue(_verbose), cancellation, Seconds(result, _connectTimeout));
            return await action(connection, id, token, result, cancellation);
        }, result.GetValue(_verbose)));
        return command;
    }
}
