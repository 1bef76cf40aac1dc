using System.Diagnostics;
using System.Globalization;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;
using Fisher.Grains;
using Fisher.Results;
using Spectre.Console;

namespace Fisher.Client;

/// <summary>Starts, watches and fetches jobs through a cluster client; prints to the console.</summary>
internal static class JobRunner
{
    /// <summary>
    /// Checks the spec (every problem, named by its flag), starts the job and returns its status and access token. A job
    /// of this id and spec started before gives no token: then the one <paramref name="knownToken"/> names (see
    /// <see cref="JobTokens.TryFind"/>) is used, or the id is taken.
    /// </summary>
    public static async Task<(JobStatus Status, string Token)> Submit(IClusterClient client, string jobId, JobSpec spec, string? knownToken = null)
    {
        JobOptions.Validate(spec);
        var ticket = await SubmitPatiently(client.GetGrain<IFisherJobGrain>(jobId), spec);
        var token = ticket.Token ?? knownToken
            ?? throw new JobFailedException($"job id '{jobId}' is taken: a job was started under it before, and its token went to whoever started it");
        if (ticket.Status.State == JobState.Failed)
            throw new JobFailedException(ticket.Status.Error ?? "the job failed");
        return (ticket.Status, token);
    }

    /// <summary>
    /// The submit call, sent again while the cluster refuses it unprocessed (its silo is stopping, a rolling update or
    /// a scale-down; or gone): a refused message changed nothing, so sending it again cannot start a second job. A call
    /// that times out is not sent again (it may still be planning the job). Gives up after <see cref="SubmitPatience"/>.
    /// </summary>
    private static async Task<JobTicket> SubmitPatiently(IFisherJobGrain job, JobSpec spec)
    {
        var clock = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(500);
        while (true)
        {
            try
            {
                return await job.SubmitAsync(spec);
            }
            catch (Exception e) when (e is OrleansMessageRejectionException or SiloUnavailableException && clock.Elapsed < SubmitPatience)
            {
                await Task.Delay(delay);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(4).Ticks));
            }
        }
    }

    /// <summary>How long a submit refused by stopping silos is sent again.</summary>
    private static readonly TimeSpan SubmitPatience = TimeSpan.FromSeconds(60);

    /// <summary>Polls until the job finishes, showing a live progress bar (or a line every few seconds when not on a
    /// terminal); follows the job through the loss of its coordinator's silo (<see cref="JobFollower"/>).</summary>
    public static Task<JobStatus> Watch(IClusterClient client, string jobId, string token, bool progress, CancellationToken cancellation) =>
        Watch(new JobFollower(jobId, ct => client.GetGrain<IFisherJobGrain>(jobId).GetStatusAsync(token, ct), JobFollower.DefaultPatience), progress, cancellation);

    /// <summary>Polls <paramref name="follower"/> until its job finishes, showing progress as above.</summary>
    public static async Task<JobStatus> Watch(JobFollower follower, bool progress, CancellationToken cancellation)
    {
        var status = await follower.NextAsync(cancellation);
        var rate = new RateMeter();
        if (progress && AnsiConsole.Profile.Capabilities.Interactive)
        {
            await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .StartAsync(async context =>
                {
                    var bar = context.AddTask(Describe(status, rate), maxValue: Math.Max(1, status.WorkTotal));
                    while (!status.IsFinished)
                    {
                        await Task.Delay(250, cancellation);
                        status = await follower.NextAsync(cancellation);
                        rate.Add(status);
                        bar.MaxValue = Math.Max(1, status.WorkTotal); // shrinks when a target stops the job early
                        bar.Value = status.WorkDone;
                        bar.Description = Describe(status, rate);
                    }
                    bar.Value = status.State == JobState.Completed ? bar.MaxValue : status.WorkDone;
                });
        }
        else
        {
            var lastLine = Stopwatch.StartNew();
            while (!status.IsFinished)
            {
                await Task.Delay(250, cancellation);
                status = await follower.NextAsync(cancellation);
                rate.Add(status);
                if (progress && lastLine.Elapsed > TimeSpan.FromSeconds(2))
                {
                    Console.WriteLine(Describe(status, rate));
                    lastLine.Restart();
                }
            }
        }
        return status;
    }

    private static string Describe(JobStatus s, RateMeter rate)
    {
        double groups = Math.Max(1, s.Groups.Count);
        double inputsDone = s.WorkDone / groups;
        double perSecond = rate.InputsPerSecond(groups);
        string eta = perSecond > 0 && s.WorkTotal > s.WorkDone
            ? TimeSpan.FromSeconds(Math.Ceiling((s.WorkTotal - s.WorkDone) / groups / perSecond)).ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture)
            : "-";
        return string.Create(CultureInfo.InvariantCulture,
            $"{inputsDone:N0}/{s.Inputs:N0} inputs merged  {perSecond:N0}/s  ETA {eta}  tasks {s.TasksCompleted}/{s.TasksTotal} ({s.TasksRunning} running)");
    }

    /// <summary>Fetches a completed job's moments (with its access token), assembles its result once and writes the result folder from it.</summary>
    public static async Task<JobResult> Fetch(IClusterClient client, JobStatus status, string token, string folder)
    {
        if (status.State != JobState.Completed)
            throw new JobFailedException($"job '{status.JobId}' is {status.State}{(status.Error is null ? "" : ": " + status.Error)}");
        var groups = await JobResults.Fetch(client, status, token);
        var spec = status.Spec!;
        var architecture = ModelSource.ReadArchitecture(spec.ModelPath, spec.ArchitecturePath, spec.Likelihood);
        IReadOnlyDictionary<string, long[]>? shapes = null;
        if (!architecture.IsFeedForward)
        {
            // A graph's parameter shapes come from its weights; an ONNX model's graph from its file (summary.json records it).
            using var network = LoadedNetwork.Load(architecture, spec.ModelPath);
            (architecture, shapes) = (network.Architecture, network.ParameterShapes());
        }
        var result = JobResultAssembler.Assemble(status, architecture, groups, shapes);
        ResultFolder.Write(folder, result);
        return result;
    }

    /// <summary>Prints <paramref name="result"/>'s per-group table, the target check and where the files are.</summary>
    public static void PrintTable(JobStatus status, JobResult result, string folder)
    {
        var model = ResultTable.Of(result);
        var table = new Table().Border(TableBorder.Rounded).Title(model.Title);
        for (int c = 0; c < model.Headers.Count; c++)
        {
            var header = model.Headers[c];
            table.AddColumn(c == 0 ? new TableColumn(Markup.Escape(header))
                : header == ResultTable.DecisionHeader ? new TableColumn(header).Centered() : new TableColumn(Markup.Escape(header)).RightAligned());
        }
        foreach (var row in model.Rows)
            table.AddRow(row.Select(Markup.Escape).ToArray());
        AnsiConsole.Write(table);
        if (model.Uncertainty.Length > 0)
            AnsiConsole.MarkupLine(Markup.Escape(model.Uncertainty));
        if (status.Spec?.TargetRelativeError is { } epsilon)
        {
            var slowest = status.Precision
                .Select(p => (p.Group, p.Quantity, Needed: new Precision(p.Inputs, p.SumOfSquaredEstimates, p.SumOfPerInputVariances).InputsNeeded(epsilon, status.Spec.Delta)))
                .OrderByDescending(p => p.Needed).Take(3)
                .Select(p => $"{p.Group} {QuantityCatalog.Find(p.Quantity)?.Symbol ?? p.Quantity} ({NumberFormat.Count(p.Needed)} inputs)");
            AnsiConsole.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"Target relative error {epsilon} (δ = {status.Spec.Delta}): {(status.StoppedEarly ? $"reached after {status.InputsMerged:N0} of {status.Inputs:N0} inputs" : $"checked over all {status.InputsMerged:N0} inputs")}; slowest: {string.Join(", ", slowest)}")));
        }
        var seconds = status.FinishedAt is { } end ? (end - status.StartedAt).TotalSeconds : double.NaN;
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"{status.InputsMerged:N0} inputs x {status.Spec?.DrawsPerInput} draws, {status.TasksTotal} tasks, {seconds:F1} s. Results: [bold]{Markup.Escape(Path.GetFullPath(folder))}[/] (fisher.safetensors, summary.json, report.md, plots/)"));
    }

    private sealed class RateMeter
    {
        private readonly Queue<(TimeSpan At, long Work)> _points = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public void Add(JobStatus s)
        {
            _points.Enqueue((_clock.Elapsed, s.WorkDone));
            while (_points.Count > 2 && _clock.Elapsed - _points.Peek().At > TimeSpan.FromSeconds(5))
                _points.Dequeue();
        }

        public double InputsPerSecond(double groups)
        {
            if (_points.Count < 2)
                return 0;
            var first = _points.Peek();
            var last = _points.Last();
            double seconds = (last.At - first.At).TotalSeconds;
            return seconds <= 0 ? 0 : (last.Work - first.Work) / groups / seconds;
        }
    }
}

/// <summary>A job that failed or could not start; the message is for the user.</summary>
internal sealed class JobFailedException(string message) : Exception(message);
