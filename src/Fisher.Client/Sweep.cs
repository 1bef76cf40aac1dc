using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;
using Fisher.Results;
using Fisher.Training;

namespace Fisher.Client;

/// <summary>A checkpoint of a sweep and its epoch (from <c>epoch-NN</c> in the file name, else its position).</summary>
internal sealed record Checkpoint(int Epoch, string Path);

/// <summary>
/// What <c>fisher sweep</c> estimates: the job spec of <c>fisher estimate</c> (its <see cref="JobSpec.ModelPath"/> is
/// replaced by each checkpoint in turn) for a list of checkpoints.
/// </summary>
internal sealed record SweepOptions
{
    public required IReadOnlyList<Checkpoint> Checkpoints { get; init; }
    public required JobSpec Spec { get; init; }
    public required string OutFolder { get; init; }
    public bool Progress { get; init; } = true;
}

/// <summary>
/// <c>fisher sweep</c>: one job per checkpoint through the path of <c>fisher estimate</c> (submit, watch, fetch into
/// <c>&lt;out&gt;/epoch-NN/</c>), then <c>sweep.json</c> and the plots of every group against the epoch.
/// </summary>
internal static partial class Sweep
{
    [GeneratedRegex(@"epoch-(\d+)", RegexOptions.IgnoreCase)]
    private static partial Regex EpochPattern();

    /// <summary>A folder's <c>epoch-*.safetensors</c> sorted by epoch, or the given files in order.</summary>
    public static IReadOnlyList<Checkpoint> ResolveCheckpoints(IReadOnlyList<string> arguments)
    {
        var files = new List<string>();
        foreach (var argument in arguments)
        {
            if (Directory.Exists(argument))
            {
                var found = Directory.GetFiles(argument, "epoch-*.safetensors");
                if (found.Length == 0)
                    throw new ArgumentException($"--checkpoints: no epoch-*.safetensors in '{argument}'");
                files.AddRange(found.OrderBy(f => EpochOf(f) ?? int.MaxValue).ThenBy(f => f, StringComparer.Ordinal));
            }
            else if (File.Exists(argument))
            {
                files.Add(argument);
            }
            else
            {
                throw new ArgumentException($"--checkpoints: no file or folder '{argument}'");
            }
        }
        if (files.Count == 0)
            throw new ArgumentException("--checkpoints: give a folder or checkpoint files");
        var result = files.Select((f, i) => new Checkpoint(EpochOf(f) ?? i, Path.GetFullPath(f))).ToArray();
        var duplicate = result.GroupBy(c => c.Epoch).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"--checkpoints: epoch {duplicate.Key} given twice ({string.Join(", ", duplicate.Select(c => c.Path))})");
        return result;
    }

    private static int? EpochOf(string path)
    {
        var match = EpochPattern().Match(System.IO.Path.GetFileNameWithoutExtension(path));
        return match.Success && int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var epoch) ? epoch : null;
    }

    public static string EpochFolder(int epoch) => string.Create(CultureInfo.InvariantCulture, $"epoch-{epoch:D2}");

    /// <summary>Runs one job per checkpoint on <paramref name="client"/>, one after the other, and writes the sweep folder.</summary>
    public static async Task<IReadOnlyList<SweepEpoch>> Run(IClusterClient client, SweepOptions options, TextWriter log, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var (path, option) in new[] { (options.Spec.ArchitecturePath, "--architecture"), (options.Spec.InputsPath, "--data"), (options.Spec.LabelsPath, "--labels") })
        {
            if (path is not null && !File.Exists(path))
                throw new ArgumentException($"{option}: no file '{path}'");
        }
        // Every result folder must be free before the first job runs, so no job computes for nothing.
        foreach (var checkpoint in options.Checkpoints)
            ResultFolder.EnsureFree(Path.Combine(options.OutFolder, EpochFolder(checkpoint.Epoch)));
        Directory.CreateDirectory(options.OutFolder);
        var stamp = JobIds.New();
        var epochs = new List<SweepEpoch>();
        var total = System.Diagnostics.Stopwatch.StartNew();
        foreach (var checkpoint in options.Checkpoints)
        {
            var spec = options.Spec with { ModelPath = checkpoint.Path };
            var id = $"sweep-{stamp}-{EpochFolder(checkpoint.Epoch)}";
            var folder = Path.Combine(options.OutFolder, EpochFolder(checkpoint.Epoch));
            JobStatus status;
            var (_, token) = await JobRunner.Submit(client, id, spec);
            try
            {
                status = await JobRunner.Watch(client, id, token, options.Progress, cancellation);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                await client.GetGrain<IFisherJobGrain>(id).CancelAsync(token, CancellationToken.None);
                throw;
            }
            if (status.State != JobState.Completed)
                throw new JobFailedException($"{Path.GetFileName(checkpoint.Path)}: job {id} is {status.State}{(status.Error is null ? "" : ": " + status.Error)}");
            var result = await JobRunner.Fetch(client, status, token, folder);
            double seconds = status.FinishedAt is { } end ? (end - status.StartedAt).TotalSeconds : double.NaN;
            epochs.Add(new SweepEpoch
            {
                Epoch = checkpoint.Epoch,
                Checkpoint = checkpoint.Path,
                JobId = id,
                Results = Path.GetFullPath(folder),
                Seconds = double.IsFinite(seconds) ? Math.Round(seconds, 3) : null,
                Groups = result.Summary.Groups.Select(g => Summarize(result, g)).ToArray(),
            });
            log.WriteLine(Describe(epochs[^1]));
        }
        var training = ReadTraining(options.Checkpoints);
        var written = WriteJson(Path.Combine(options.OutFolder, SweepFile.FileName), options, epochs, training);
        var plots = Path.Combine(options.OutFolder, "plots");
        SweepPlots.Write(plots, written.Epochs, options);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{epochs.Count} checkpoints in {total.Elapsed.TotalSeconds:F1} s. Results: {Path.GetFullPath(options.OutFolder)} (epoch-NN/, sweep.json, plots/sweep-estimates.png, sweep-variances.png, sweep-rse.png)"));
        return written.Epochs;
    }

    /// <summary>One group of one epoch: every quantity's mean entry, the estimates' relative standard errors, and the share of V2 below V1.</summary>
    private static SweepGroup Summarize(JobResult result, SummaryGroup group) => new()
    {
        Name = group.Name,
        Size = group.Size,
        Means = group.Quantities.ToDictionary(q => q.Key, q => q.Value.MeanEstimate),
        RelativeStandardErrors = QuantityCatalog.Estimates.Where(q => group.Quantity(q) is not null)
            .ToDictionary(q => q.Key, q => group.Quantity(q)!.RelativeStandardError),
        V2BelowV1Share = V2BelowV1Share(result, group),
    };

    private static string Describe(SweepEpoch e)
    {
        var shown = QuantityCatalog.Estimates.Where(q => QuantityCatalog.VarianceOf(q) is not null)
            .SelectMany(q => new[] { q, QuantityCatalog.VarianceOf(q)! }).ToArray();
        var parts = e.Groups.Select(g => g.Name + string.Concat(shown.Where(q => g.Means.ContainsKey(q.Key))
            .Select(q => $" {q.Symbol} {NumberFormat.Format(g.Means[q.Key])}")));
        return string.Create(CultureInfo.InvariantCulture, $"epoch {e.Epoch,2} ({NumberFormat.Format(e.Seconds)} s): {string.Join(" | ", parts)}");
    }

    /// <summary>The share of the group's parameters whose E_x V2 is below their E_x V1 (Î2 has the lower label variance), or null.</summary>
    private static double? V2BelowV1Share(JobResult result, SummaryGroup group)
    {
        QuantityInfo v1 = QuantityCatalog.VarianceOf(QuantityCatalog.SquaredScore)!, v2 = QuantityCatalog.VarianceOf(QuantityCatalog.NegativeHessian)!;
        long below = 0, total = 0;
        foreach (var parameter in group.Parameters)
        {
            if (result.Tensor(parameter, v1.TensorKey) is not { } a || result.Tensor(parameter, v2.TensorKey) is not { } b)
                continue;
            for (int i = 0; i < a.Data.Length; i++)
            {
                total++;
                if (b.Data[i] < a.Data[i])
                    below++;
            }
        }
        return total > 0 ? (double)below / total : null;
    }

    /// <summary>The per-epoch metrics of training.json next to the checkpoints, when there is one.</summary>
    private static Dictionary<int, EpochMetrics> ReadTraining(IReadOnlyList<Checkpoint> checkpoints)
    {
        var result = new Dictionary<int, EpochMetrics>();
        var path = Path.Combine(Path.GetDirectoryName(checkpoints[0].Path)!, TrainingRecord.FileName);
        if (!File.Exists(path))
            return result;
        try
        {
            foreach (var item in TrainingRecord.Read(path).PerEpoch)
                result[item.Epoch] = item;
        }
        catch (JsonException)
        {
            // Training metrics are extra information; a sweep of foreign checkpoints does not need them.
        }
        return result;
    }

    /// <summary>Writes sweep.json: the epochs with the training metrics of training.json, when there is one.</summary>
    private static SweepFile WriteJson(string path, SweepOptions options, IReadOnlyList<SweepEpoch> epochs, Dictionary<int, EpochMetrics> training)
    {
        EpochMetrics? Metrics(int epoch) => training.GetValueOrDefault(epoch);
        var spec = options.Spec;
        var file = new SweepFile
        {
            Spec = spec,
            Likelihood = spec.Likelihood ?? SpecNames.Likelihoods.Parse(ModelArchitecture.Read(spec.ArchitecturePath).Likelihood),
            Epochs = epochs.Select(e => e with
            {
                TrainLoss = Metrics(e.Epoch)?.TrainLoss,
                TrainAccuracy = Metrics(e.Epoch)?.TrainAccuracy,
                TestLoss = Metrics(e.Epoch)?.TestLoss,
                TestAccuracy = Metrics(e.Epoch)?.TestAccuracy,
            }).ToArray(),
        };
        ResultJson.Write(path, file);
        return file;
    }
}
