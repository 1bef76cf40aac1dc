using System.CommandLine;
using System.Globalization;
using Fisher.Client;
using Fisher.Contracts;
using Fisher.Estimators;
using Fisher.Grains;
using Spectre.Console;

// Redirected output (scripts, CI logs) is not wrapped at Spectre's default 80 columns: one message, one line.
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 4096;

var model = new Option<string?>("--model") { Description = "Weights: a PyTorch state_dict saved by torch.save (zip) or a safetensors file, with nn.Sequential key names (0.weight, 0.bias, 2.weight, ...). Default: the bundled Fashion-MNIST MLP." };
var architecture = new Option<string?>("--architecture") { Description = "Architecture JSON (widths, activations, likelihood, variance, input scaling). Default: next to the bundled model." };
var data = new Option<string?>("--data") { Description = "Inputs: IDX (plain or .gz) or NPY. Default: the bundled 2,000 Fashion-MNIST test images." };
var labels = new Option<string?>("--labels") { Description = "Observed labels (IDX or NPY), for the empirical Fisher. Default: the bundled labels when --data is default." };
var job = new JobOptions();
var maxTasks = new Option<int>("--max-tasks") { Description = "Tasks running at once (0: two per active silo).", DefaultValueFactory = _ => 0 };
var target = new Option<double?>("--target-rel-error") { Description = "Stop as soon as every group's requested estimates have relative error below this with probability 1-δ (Chebyshev; checked between rounds of shards). Use more --shards for finer rounds." };
var delta = new Option<double>("--delta") { Description = "δ for --target-rel-error and the sample sizes in the report.", DefaultValueFactory = _ => JobSpec.DefaultDelta };
var output = new Option<string?>("--out") { Description = "Result folder (fisher.safetensors, summary.json). Default: results/<job id>." };
var cluster = new Option<string?>("--cluster") { Description = "Run on a cluster of Fisher.Silo processes found through this Redis connection string (e.g. 127.0.0.1:6379). Absent: an in-process silo." };
var gateway = new Option<string?>("--gateway") { Description = "Run on a cluster reached through this silo gateway (host:port), e.g. a single Fisher.Silo without Redis." };
var metricsPort = new Option<int?>("--metrics-port") { Description = "Serve the embedded silo's Prometheus /metrics on 127.0.0.1:N while the job runs." };
var jobIdOption = new Option<string?>("--job-id") { Description = "Job id (default: a new one)." };
var noProgress = new Option<bool>("--no-progress") { Description = "No progress bar." };
var verbose = new Option<bool>("--verbose") { Description = "Log the silo's and client's information messages." };
var jobId = new Argument<string>("job-id") { Description = "The job id printed by submit." };

Option[] specOptions = [model, architecture, data, labels, .. job.All, maxTasks, target, delta];

var estimate = new Command("estimate", "Run a whole job and write its results: an in-process silo by default, or a cluster with --cluster/--gateway.");
foreach (var o in specOptions)
    estimate.Options.Add(o);
estimate.Options.Add(output);
estimate.Options.Add(cluster);
estimate.Options.Add(gateway);
estimate.Options.Add(jobIdOption);
estimate.Options.Add(metricsPort);
estimate.Options.Add(noProgress);
estimate.Options.Add(verbose);
estimate.SetAction((result, cancellation) => Cli.Run(async () =>
{
    var spec = Cli.BuildSpec(result, model, architecture, data, labels, job, maxTasks) with
    {
        TargetRelativeError = result.GetValue(target),
        Delta = result.GetValue(delta),
    };
    var id = result.GetValue(jobIdOption) ?? Cli.NewJobId();
    var folder = result.GetValue(output) ?? Path.Combine("results", id);
    await using var connection = await Cli.Connect(result.GetValue(cluster), result.GetValue(gateway), result.GetValue(verbose), result.GetValue(metricsPort), cancellation);
    AnsiConsole.MarkupLine($"Job [bold]{id}[/] on the {Markup.Escape(connection.Description)}: {Markup.Escape(spec.Quantities.ToKeyList())} for {Markup.Escape(Path.GetFileName(spec.ModelPath))} on {Markup.Escape(Path.GetFileName(spec.InputsPath))}");
    try
    {
        await JobRunner.Submit(connection.Client, id, spec);
        var status = await JobRunner.Watch(connection.Client, id, !result.GetValue(noProgress), cancellation);
        var jobResult = await JobRunner.Fetch(connection.Client, status, folder);
        JobRunner.PrintTable(status, jobResult, folder);
    }
    catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
    {
        // The command's token is cancelled already: the cancel call itself must not carry it.
        await connection.Client.GetGrain<IFisherJobGrain>(id).CancelAsync(CancellationToken.None);
        throw;
    }
    return 0;
}));

var submit = new Command("submit", "Start a job on a cluster and print its id (then use watch, status, fetch, cancel).");
foreach (var o in specOptions)
    submit.Options.Add(o);
submit.Options.Add(cluster);
submit.Options.Add(gateway);
submit.Options.Add(jobIdOption);
submit.Options.Add(verbose);
submit.SetAction((result, cancellation) => Cli.Run(async () =>
{
    var spec = Cli.BuildSpec(result, model, architecture, data, labels, job, maxTasks) with
    {
        TargetRelativeError = result.GetValue(target),
        Delta = result.GetValue(delta),
    };
    var id = result.GetValue(jobIdOption) ?? Cli.NewJobId();
    await using var connection = await Cli.ConnectCluster(result.GetValue(cluster), result.GetValue(gateway), result.GetValue(verbose), cancellation);
    var status = await JobRunner.Submit(connection.Client, id, spec);
    Console.WriteLine(id);
    Console.Error.WriteLine($"started: {status.TasksTotal} tasks over {status.Inputs} inputs; fisher watch {id} / fisher fetch {id}");
    return 0;
}));

Command JobCommand(string name, string description, Func<ClusterConnection, string, System.CommandLine.ParseResult, CancellationToken, Task<int>> action, params Option[] extra)
{
    var command = new Command(name, description);
    command.Arguments.Add(jobId);
    command.Options.Add(cluster);
    command.Options.Add(gateway);
    command.Options.Add(verbose);
    foreach (var o in extra)
        command.Options.Add(o);
    command.SetAction((result, cancellation) => Cli.Run(async () =>
    {
        await using var connection = await Cli.ConnectCluster(result.GetValue(cluster), result.GetValue(gateway), result.GetValue(verbose), cancellation);
        return await action(connection, result.GetValue(jobId)!, result, cancellation);
    }));
    return command;
}

var status = JobCommand("status", "Print a job's state and progress.", async (connection, id, _, cancellation) =>
{
    var s = await connection.Client.GetGrain<IFisherJobGrain>(id).GetStatusAsync(cancellation);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{id}: {s.State}, {100 * s.Fraction:F1}% ({s.TasksCompleted}/{s.TasksTotal} tasks, {s.TasksRunning} running, {s.Redispatches} re-dispatched){(s.Error is null ? "" : ": " + s.Error)}"));
    return s.State == JobState.Unknown ? 2 : 0;
});
var watch = JobCommand("watch", "Show a job's progress until it finishes.", async (connection, id, _, cancellation) =>
{
    var s = await JobRunner.Watch(connection.Client, id, progress: true, cancellation);
    Console.WriteLine($"{id}: {s.State}{(s.Error is null ? "" : ": " + s.Error)}");
    return s.State == JobState.Completed ? 0 : 1;
});
var fetch = JobCommand("fetch", "Write a completed job's results (fisher.safetensors, summary.json) and print its table.", async (connection, id, result, cancellation) =>
{
    var s = await connection.Client.GetGrain<IFisherJobGrain>(id).GetStatusAsync(cancellation);
    var folder = result.GetValue(output) ?? Path.Combine("results", id);
    var jobResult = await JobRunner.Fetch(connection.Client, s, folder);
    JobRunner.PrintTable(s, jobResult, folder);
    return 0;
}, output);
var cancel = JobCommand("cancel", "Cancel a running job.", async (connection, id, _, cancellation) =>
{
    var s = await connection.Client.GetGrain<IFisherJobGrain>(id).CancelAsync(cancellation);
    Console.WriteLine($"{id}: {s.State}");
    return 0;
});

var root = new RootCommand("fisher: diagonal Fisher information (Î1, Î2, exact, empirical) with the variance of every estimate, on one machine or an Orleans cluster.")
{
    estimate, submit, status, watch, fetch, cancel, ReportCommand.Create(),
};
foreach (var command in TrainCommands.Create())
    root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
