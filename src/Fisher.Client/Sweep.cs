using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fisher.Contracts;
using Fisher.Data;
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

/// <summary>One group of one epoch in <c>sweep.json</c>: mean diagonal entries, relative standard errors, mean V1/V2.</summary>
internal sealed record SweepGroup(string Name, long Size, IReadOnlyDictionary<string, double> Means, IReadOnlyDictionary<string, double> RelativeStandardErrors, double V2BelowV1Share);

/// <summary>One epoch of a sweep.</summary>
internal sealed record SweepEpoch(int Epoch, string Checkpoint, string JobId, string ResultFolder, double Seconds, IReadOnlyList<SweepGroup> Groups);

/// <summary>
/// <c>fisher sweep</c>: one job per checkpoint through the path of <c>fisher estimate</c> (submit, watch, fetch into
/// <c>&lt;out&gt;/epoch-NN/</c>), then <c>sweep.json</c> and the plots of every group against the epoch.
/// </summary>
internal static partial class Sweep
{
    private static readonly string[] Estimates = ["i1", "i2", "exact", "empirical"];

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
        Directory.CreateDirectory(options.OutFolder);
        var stamp = Cli.NewJobId();
        var epochs = new List<SweepEpoch>();
        var total = System.Diagnostics.Stopwatch.StartNew();
        foreach (var checkpoint in options.Checkpoints)
        {
            var spec = options.Spec with { ModelPath = checkpoint.Path };
            var id = $"sweep-{stamp}-{EpochFolder(checkpoint.Epoch)}";
            var folder = Path.Combine(options.OutFolder, EpochFolder(checkpoint.Epoch));
            JobStatus status;
            try
            {
                await JobRunner.Submit(client, id, spec);
                status = await JobRunner.Watch(client, id, options.Progress, cancellation);
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                await client.GetGrain<IFisherJobGrain>(id).Cancel();
                throw;
            }
            if (status.State != JobState.Completed)
                throw new JobFailedException($"{Path.GetFileName(checkpoint.Path)}: job {id} is {status.State}{(status.Error is null ? "" : ": " + status.Error)}");
            var summary = await JobRunner.Fetch(client, status, folder);
            var shares = V2BelowV1Shares(Path.Combine(folder, "fisher.safetensors"), summary);
            var groups = summary.Select(g => new SweepGroup(
                g.Group,
                g.Size,
                g.Quantities.ToDictionary(q => q.Quantity, q => q.MeanEstimate),
                g.Quantities.Where(q => Estimates.Contains(q.Quantity)).ToDictionary(q => q.Quantity, q => q.RelativeStandardError),
                shares.GetValueOrDefault(g.Group, double.NaN))).ToArray();
            double seconds = status.FinishedAt is { } end ? (end - status.StartedAt).TotalSeconds : double.NaN;
            epochs.Add(new SweepEpoch(checkpoint.Epoch, checkpoint.Path, id, folder, seconds, groups));
            log.WriteLine(Describe(epochs[^1]));
        }
        var training = ReadTraining(options.Checkpoints);
        WriteJson(Path.Combine(options.OutFolder, "sweep.json"), options, epochs, training);
        var plots = Path.Combine(options.OutFolder, "plots");
        SweepPlots.Write(plots, epochs, options);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{epochs.Count} checkpoints in {total.Elapsed.TotalSeconds:F1} s. Results: {Path.GetFullPath(options.OutFolder)} (epoch-NN/, sweep.json, plots/sweep-estimates.png, sweep-variances.png, sweep-rse.png)"));
        return epochs;
    }

    private static string Describe(SweepEpoch e)
    {
        var parts = e.Groups.Select(g =>
        {
            var text = $"{g.Name} Î1 {Get(g.Means, "i1")} Î2 {Get(g.Means, "i2")}";
            if (g.Means.ContainsKey("v1") && g.Means.ContainsKey("v2"))
                text += $" EV1 {Get(g.Means, "v1")} EV2 {Get(g.Means, "v2")}";
            return text;
        });
        return string.Create(CultureInfo.InvariantCulture, $"epoch {e.Epoch,2} ({e.Seconds:F1} s): {string.Join(" | ", parts)}");
    }

    private static string Get(IReadOnlyDictionary<string, double> values, string key) =>
        values.TryGetValue(key, out var v) ? ResultFolder.Format(v) : "-";

    /// <summary>Per group, the share of parameters whose V2 is below their V1 (Î2 has the lower label variance), from fisher.safetensors.</summary>
    private static Dictionary<string, double> V2BelowV1Shares(string path, IReadOnlyList<GroupSummary> summary)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        if (!File.Exists(path))
            return result;
        var tensors = Safetensors.Read(path).Tensors;
        foreach (var group in summary)
        {
            long below = 0, total = 0;
            foreach (var parameter in group.Parameters)
            {
                if (!tensors.TryGetValue(parameter + ".v1", out var v1) || !tensors.TryGetValue(parameter + ".v2", out var v2))
                    continue;
                for (int i = 0; i < v1.Data.Length; i++)
                {
                    total++;
                    if (v2.Data[i] < v1.Data[i])
                        below++;
                }
            }
            if (total > 0)
                result[group.Group] = (double)below / total;
        }
        return result;
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

    private static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    private static void WriteJson(string path, SweepOptions options, IReadOnlyList<SweepEpoch> epochs, Dictionary<int, EpochMetrics> training)
    {
        var root = new JsonObject
        {
            ["architecture"] = options.Spec.ArchitecturePath,
            ["data"] = options.Spec.InputsPath,
            ["labels"] = options.Spec.LabelsPath,
            ["likelihood"] = options.Spec.Likelihood ?? ModelArchitecture.Read(options.Spec.ArchitecturePath).Likelihood,
            ["estimators"] = options.Spec.Quantities,
            ["draws"] = options.Spec.DrawsPerInput,
            ["firstInput"] = options.Spec.FirstInput,
            ["inputs"] = options.Spec.Inputs,
            ["grouping"] = options.Spec.Grouping,
            ["seed"] = options.Spec.Seed,
            ["precision"] = options.Spec.Precision,
            ["meaning"] = "per epoch and group: mean over the group's parameters of each estimate (i1, i2, exact, empirical) and of v1/v2 (E_x of the conditional variance of one label draw's Î1/Î2 term); rse = ||standard errors||_2 / ||estimates||_2 over the group; v2BelowV1Share = share of the group's parameters with E_x V2 < E_x V1",
            ["epochs"] = new JsonArray(epochs.Select(e =>
            {
                var node = new JsonObject
                {
                    ["epoch"] = e.Epoch,
                    ["checkpoint"] = e.Checkpoint,
                    ["jobId"] = e.JobId,
                    ["results"] = Path.GetFullPath(e.ResultFolder),
                    ["seconds"] = Finite(Math.Round(e.Seconds, 3)),
                };
                if (training.TryGetValue(e.Epoch, out var t))
                {
                    node["trainLoss"] = t.TrainLoss;
                    node["trainAccuracy"] = t.TrainAccuracy;
                    node["testLoss"] = t.TestLoss;
                    node["testAccuracy"] = t.TestAccuracy;
                }
                node["groups"] = new JsonArray(e.Groups.Select(g =>
                {
                    var group = new JsonObject { ["name"] = g.Name, ["size"] = g.Size };
                    foreach (var (quantity, mean) in g.Means)
                        group[quantity] = Finite(mean);
                    foreach (var (quantity, rse) in g.RelativeStandardErrors)
                        group[quantity + "Rse"] = Finite(rse);
                    group["v2BelowV1Share"] = Finite(g.V2BelowV1Share);
                    return (JsonNode)group;
                }).ToArray());
                return (JsonNode)node;
            }).ToArray()),
        };
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
