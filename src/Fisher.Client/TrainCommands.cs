using Fisher.Contracts;
using Fisher.Estimators;
using Fisher.Training;
using System.CommandLine;
using Spectre.Console;

namespace Fisher.Client;

/// <summary><c>fisher train</c> and <c>fisher sweep</c>: the paper's study of an MLP during training.</summary>
internal static class TrainCommands
{
    public static IEnumerable<Command> Create() => [CreateTrain(), CreateSweep()];

    private static Command CreateTrain()
    {
        var architecture = new Option<string>("--architecture") { Description = "Architecture JSON (widths, activations, likelihood, variance, input scaling), as samples/fashion-mnist/model.json.", Required = true };
        var data = new Option<string>("--data") { Description = "Training inputs: IDX (plain or .gz) or NPY.", Required = true };
        var labels = new Option<string>("--labels") { Description = "Training labels: class indices (one-hot targets for gaussian/bernoulli/poisson with several outputs) or one target column per output.", Required = true };
        var testData = new Option<string?>("--test-data") { Description = "Test inputs, evaluated after every epoch." };
        var testLabels = new Option<string?>("--test-labels") { Description = "Test labels." };
        var epochs = new Option<int>("--epochs") { Description = "Epochs.", DefaultValueFactory = _ => 10 };
        var batch = new Option<int>("--batch-size") { Description = "Examples per Adam step.", DefaultValueFactory = _ => 128 };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 1e-3 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the initial weights and the shuffling.", DefaultValueFactory = _ => 0 };
        var rows = new Option<long>("--rows") { Description = "Use only the first N training rows (0: all).", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Folder for epoch-00.safetensors (initial weights) .. epoch-NN.safetensors, model.json and training.json.", Required = true };

        var command = new Command("train", "Train an MLP (architecture file, Adam) on an IDX/NPY dataset, saving a checkpoint per epoch.")
        {
            architecture, data, labels, testData, testLabels, epochs, batch, lr, seed, rows, output,
        };
        command.SetAction((result, cancellation) => Cli.Run(() =>
        {
            var options = new TrainOptions
            {
                ArchitecturePath = result.GetValue(architecture)!,
                DataPath = result.GetValue(data)!,
                LabelsPath = result.GetValue(labels)!,
                TestDataPath = result.GetValue(testData),
                TestLabelsPath = result.GetValue(testLabels),
                OutFolder = result.GetValue(output)!,
                Epochs = result.GetValue(epochs),
                BatchSize = result.GetValue(batch),
                LearningRate = result.GetValue(lr),
                Seed = result.GetValue(seed),
                Rows = result.GetValue(rows),
            };
            Trainer.Run(options, Console.Out, cancellation);
            return Task.FromResult(0);
        }));
        return command;
    }

    private static Command CreateSweep()
    {
        var checkpoints = new Option<string[]>("--checkpoints") { Description = "A folder (every epoch-*.safetensors in it, sorted) or a list of checkpoint files.", Required = true, AllowMultipleArgumentsPerToken = true };
        var architecture = new Option<string?>("--architecture") { Description = "Architecture JSON. Default: model.json next to the checkpoints." };
        var data = new Option<string?>("--data") { Description = "Inputs: IDX (plain or .gz) or NPY. Default: the bundled 2,000 Fashion-MNIST test images." };
        var labels = new Option<string?>("--labels") { Description = "Observed labels (IDX or NPY), for the empirical Fisher. Default: the bundled labels when --data is default." };
        var job = new JobOptions();
        var output = new Option<string?>("--out") { Description = "Sweep folder: epoch-NN/ result folders, sweep.json, plots/. Default: results/sweep-<time>." };
        var cluster = new Option<string?>("--cluster") { Description = "Run on a cluster found through this Redis connection string. Absent: one in-process silo for the whole sweep." };
        var gateway = new Option<string?>("--gateway") { Description = "Run on a cluster reached through this silo gateway (host:port)." };
        var tls = new TlsFlags();
        var noProgress = new Option<bool>("--no-progress") { Description = "No progress lines." };
        var verbose = new Option<bool>("--verbose") { Description = "Log the silo's and client's information messages." };

        var command = new Command("sweep", "Estimate a list of checkpoints (one job each) and plot every group's quantities against the epoch.")
        {
            checkpoints, architecture, data, labels,
        };
        foreach (var option in job.All.Concat([output, cluster, gateway, .. tls.All, noProgress, verbose]))
            command.Options.Add(option);
        command.SetAction((result, cancellation) => Cli.Run(async () =>
        {
            var files = Sweep.ResolveCheckpoints(result.GetValue(checkpoints)!);
            var dataPath = result.GetValue(data);
            var labelsPath = result.GetValue(labels);
            if (dataPath is null)
            {
                var sample = Sample.Find();
                dataPath = sample.Images;
                labelsPath ??= sample.Labels;
            }
            var options = new SweepOptions
            {
                Checkpoints = files,
                Spec = job.ToSpec(result, files[0].Path, // the model is replaced by each checkpoint
                    result.GetValue(architecture) ?? Path.Combine(Path.GetDirectoryName(files[0].Path)!, "model.json"), dataPath, labelsPath),
                OutFolder = result.GetValue(output) ?? Path.Combine("results", "sweep-" + JobIds.New()),
                Progress = !result.GetValue(noProgress),
            };
            await using var connection = await Cli.Connect(result.GetValue(cluster), result.GetValue(gateway), tls.Files(result), result.GetValue(verbose), metricsPort: null, cancellation);
            AnsiConsole.MarkupLine(Markup.Escape($"Sweep of {files.Count} checkpoints on the {connection.Description}: {options.Spec.Quantities.ToKeyList()}, {Fisher.Estimators.SpecNames.Groupings.Key(options.Spec.Grouping)} groups, {Path.GetFileName(options.Spec.InputsPath)}"));
            await Sweep.Run(connection.Client, options, Console.Out, cancellation);
            return 0;
        }));
        return command;
    }
}
