using System.Diagnostics;
using System.Globalization;
using Fisher.Data;
using Fisher.Estimators;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Fisher.Training;

/// <summary>
/// Trains the <see cref="FeedForwardNetwork"/> of an architecture file with Adam on an IDX/NPY dataset (float32) and
/// writes <c>epoch-NN.safetensors</c> checkpoints (epoch 00 = the initial weights), <c>model.json</c> and
/// <c>training.json</c> (<see cref="TrainingRecord"/>). The loss is −<see cref="Likelihood.LogLikelihood"/> of the
/// architecture's likelihood, averaged over the batch; labels become the likelihood's targets as in the estimator's
/// workers (<see cref="Likelihood.TakesOneHotTargets"/>, <see cref="Likelihood.PrepareObservedLabels"/>).
/// </summary>
public static class Trainer
{
    private const string LossMeaning =
        "mean over examples of the negative log-likelihood -log p(y | f), normalising constants included; epoch 0 = initial weights on the whole training set, later epochs = mean over the epoch's batches";

    /// <summary>The checkpoint file of an epoch.</summary>
    public static string CheckpointName(int epoch) => string.Create(CultureInfo.InvariantCulture, $"epoch-{epoch:D2}.safetensors");

    /// <summary>Trains, writes the checkpoints and training.json into <see cref="TrainOptions.OutFolder"/>, and returns the record.</summary>
    public static TrainingRecord Run(TrainOptions options, TextWriter log, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        Validate(options);
        TorchRuntime.Configure(Environment.ProcessorCount);
        var architecture = ModelArchitecture.Read(options.ArchitecturePath);
        if (!architecture.IsFeedForward)
            throw new ArgumentException($"architecture: {options.ArchitecturePath} describes {(architecture.IsGraph ? "a layer graph" : "no layers")}; training takes the feed-forward form (widths)");
        var likelihood = architecture.CreateLikelihood();
        var total = Stopwatch.StartNew();

        using var train = TrainingSet.Load(architecture, likelihood, options.DataPath, options.LabelsPath, options.Rows, "training inputs");
        using var test = options.TestDataPath is null ? null : TrainingSet.Load(architecture, likelihood, options.TestDataPath, options.TestLabelsPath!, 0, "test inputs");
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Training {string.Join("-", architecture.Widths)} {string.Join(",", architecture.Activations.Select(a => a.Name).Distinct())} ({architecture.Likelihood}) on {train.Rows:N0} rows of {Path.GetFileName(options.DataPath)}{(test is null ? "" : $", testing on {test.Rows:N0}")}: Adam lr {options.LearningRate}, batch {options.BatchSize}, {options.Epochs} epochs, seed {options.Seed} ({train.LoadSeconds + (test?.LoadSeconds ?? 0):F1} s to load)"));

        Directory.CreateDirectory(options.OutFolder);
        File.Copy(options.ArchitecturePath, Path.Combine(options.OutFolder, "model.json"), overwrite: true);

        using var network = CreateInitialNetwork(architecture, options.Seed);
        var parameters = network.TrainableParameters();
        try
        {
            using var optimizer = optim.Adam(parameters, lr: options.LearningRate);
            using var generator = new Generator(options.Seed);
            var session = new Session(options, log, network, parameters, likelihood, train, test, optimizer, generator);
            var metrics = new List<EpochMetrics>();
            metrics.Add(session.InitialEpoch());
            log.WriteLine(Describe(metrics[^1]));
            for (int epoch = 1; epoch <= options.Epochs; epoch++)
            {
                cancellation.ThrowIfCancellationRequested();
                metrics.Add(session.TrainEpoch(epoch, cancellation));
                log.WriteLine(Describe(metrics[^1]));
            }

            var record = Record(options, architecture, train.Rows, test?.Rows, metrics, total);
            record.Write(Path.Combine(options.OutFolder, TrainingRecord.FileName));
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{options.Epochs} epochs in {total.Elapsed.TotalSeconds:F1} s. Checkpoints: {Path.GetFullPath(options.OutFolder)} (epoch-00..{options.Epochs:D2}.safetensors, model.json, {TrainingRecord.FileName})"));
            return record;
        }
        finally
        {
            foreach (var p in parameters)
                p.Dispose();
        }
    }

    /// <summary>
    /// One run's network, optimiser and data: epoch 0 evaluates the initial weights, every later epoch trains on the
    /// training set in a fresh random order; each ends with its checkpoint and its metrics.
    /// </summary>
    private sealed class Session(TrainOptions options, TextWriter log, FeedForwardNetwork network, Parameter[] parameters, Likelihood likelihood, TrainingSet train, TrainingSet? test, Adam optimizer, Generator generator)
    {
        /// <summary>Epoch 0: the initial weights, evaluated on the whole training set.</summary>
        public EpochMetrics InitialEpoch()
        {
            var watch = Stopwatch.StartNew();
            var (trainLoss, trainAccuracy) = Evaluate(network, parameters, likelihood, train);
            var (testLoss, testAccuracy) = test is null ? (null, null) : Evaluate(network, parameters, likelihood, test);
            Save(Path.Combine(options.OutFolder, CheckpointName(0)), network.Layout, parameters, 0);
            return Metrics(0, trainLoss, trainAccuracy, testLoss, testAccuracy, watch);
        }

        /// <summary>One pass of Adam steps over the training set in batches, logging progress every 10 s.</summary>
        public EpochMetrics TrainEpoch(int epoch, CancellationToken cancellation)
        {
            var watch = Stopwatch.StartNew();
            var progress = Stopwatch.StartNew();
            double lossSum = 0;
            long correct = 0, seen = 0;
            using (var order = randperm(train.Rows, generator: generator).DetachFromDisposeScope())
            {
                for (long first = 0; first < train.Rows; first += options.BatchSize)
                {
                    int count = (int)Math.Min(options.BatchSize, train.Rows - first);
                    using var scope = NewDisposeScope();
                    var index = order.narrow(0, first, count);
                    var (loss, output) = Step(index);
                    lossSum += loss.item<float>() * (double)count;
                    if (train.Classes is not null)
                        correct += output.argmax(1).eq(train.Classes.index_select(0, index)).sum().item<long>();
                    seen += count;
                    TorchRuntime.AfterBatch();
                    if (progress.Elapsed > TimeSpan.FromSeconds(10))
                    {
                        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  epoch {epoch}: {seen:N0}/{train.Rows:N0} rows, loss {lossSum / seen:F4}"));
                        progress.Restart();
                    }
                    cancellation.ThrowIfCancellationRequested();
                }
            }
            var (testLoss, testAccuracy) = test is null ? (null, null) : Evaluate(network, parameters, likelihood, test);
            Save(Path.Combine(options.OutFolder, CheckpointName(epoch)), network.Layout, parameters, epoch);
            return Metrics(epoch, lossSum / seen, train.Classes is null ? null : (double)correct / seen, testLoss, testAccuracy, watch);
        }

        /// <summary>One Adam step on the training rows <paramref name="index"/>: their loss and the network's output.</summary>
        private (Tensor Loss, Tensor Output) Step(Tensor index)
        {
            optimizer.zero_grad();
            var output = network.Forward(train.Inputs.index_select(0, index), parameters);
            var loss = Loss(likelihood, output, train.Targets.index_select(0, index));
            loss.backward();
            optimizer.step();
            return (loss, output);
        }
    }

    /// <summary>The record of a finished run (training.json).</summary>
    private static TrainingRecord Record(TrainOptions options, ModelArchitecture architecture, long trainRows, long? testRows, List<EpochMetrics> metrics, Stopwatch total) => new()
    {
        Architecture = architecture,
        Data = Path.GetFullPath(options.DataPath),
        Labels = Path.GetFullPath(options.LabelsPath),
        TestData = options.TestDataPath is null ? null : Path.GetFullPath(options.TestDataPath),
        TestLabels = options.TestLabelsPath is null ? null : Path.GetFullPath(options.TestLabelsPath),
        TrainRows = trainRows,
        TestRows = testRows,
        LearningRate = options.LearningRate,
        BatchSize = options.BatchSize,
        Epochs = options.Epochs,
        Seed = options.Seed,
        Loss = LossMeaning,
        Seconds = Math.Round(total.Elapsed.TotalSeconds, 3),
        PerEpoch = metrics,
    };

    private static void Validate(TrainOptions options)
    {
        if (options.Epochs < 1)
            throw new ArgumentException($"epochs: must be at least 1, got {options.Epochs}");
        if (options.BatchSize < 1)
            throw new ArgumentException($"batch size: must be at least 1, got {options.BatchSize}");
        if (!(options.LearningRate > 0) || !double.IsFinite(options.LearningRate))
            throw new ArgumentException($"learning rate: must be a positive number, got {options.LearningRate.ToString(CultureInfo.InvariantCulture)}");
        foreach (var (path, option) in new[] { (options.ArchitecturePath, "architecture"), (options.DataPath, "training inputs"), (options.LabelsPath, "training labels"), (options.TestDataPath, "test inputs"), (options.TestLabelsPath, "test labels") })
        {
            if (path is not null && !File.Exists(path))
                throw new ArgumentException($"{option}: no file '{path}'");
        }
        if ((options.TestDataPath is null) != (options.TestLabelsPath is null))
            throw new ArgumentException("test inputs and test labels go together");
    }

    /// <summary>
    /// The architecture's network in float32, initialised like PyTorch's <c>nn.Linear</c>: weight and bias uniform on
    /// ±1/√fan_in (kaiming_uniform with a = √5), drawn layer by layer, weight first, from a generator seeded with the seed.
    /// </summary>
    private static FeedForwardNetwork CreateInitialNetwork(ModelArchitecture architecture, ulong seed)
    {
        using var generator = new Generator(seed);
        using var scope = NewDisposeScope();
        var weights = new List<Tensor>();
        var biases = new List<Tensor>();
        for (int l = 0; l + 1 < architecture.Widths.Count; l++)
        {
            long fanIn = architecture.Widths[l], fanOut = architecture.Widths[l + 1];
            double bound = 1.0 / Math.Sqrt(fanIn);
            using var low = tensor(-bound, ScalarType.Float32);
            using var width = tensor(2 * bound, ScalarType.Float32);
            weights.Add(rand([fanOut, fanIn], ScalarType.Float32, generator: generator).mul(width).Plus(low));
            biases.Add(rand([fanOut], ScalarType.Float32, generator: generator).mul(width).Plus(low));
        }
        return FeedForwardNetwork.FromTensors(weights, biases, architecture.Activations, architecture.LayerNames, ScalarType.Float32);
    }

    /// <summary>−log p(y | f) averaged over the batch.</summary>
    private static Tensor Loss(Likelihood likelihood, Tensor f, Tensor targets) => likelihood.LogLikelihood(f, targets).mean().neg();

    /// <summary>Mean loss and (for class labels) accuracy over a whole set, without gradients.</summary>
    private static (double? Loss, double? Accuracy) Evaluate(FeedForwardNetwork network, IReadOnlyList<Tensor> parameters, Likelihood likelihood, TrainingSet set)
    {
        using var noGrad = no_grad();
        double loss = 0;
        long correct = 0;
        const int chunk = 2048;
        for (long first = 0; first < set.Rows; first += chunk)
        {
            int count = (int)Math.Min(chunk, set.Rows - first);
            using var scope = NewDisposeScope();
            var f = network.Forward(set.Inputs.narrow(0, first, count), parameters);
            loss += Loss(likelihood, f, set.Targets.narrow(0, first, count)).item<float>() * (double)count;
            if (set.Classes is not null)
                correct += f.argmax(1).eq(set.Classes.narrow(0, first, count)).sum().item<long>();
        }
        return (loss / set.Rows, set.Classes is null ? null : (double)correct / set.Rows);
    }

    private static EpochMetrics Metrics(int epoch, double? trainLoss, double? trainAccuracy, double? testLoss, double? testAccuracy, Stopwatch watch) =>
        new(epoch, CheckpointName(epoch), Finite(trainLoss), Finite(trainAccuracy), Finite(testLoss), Finite(testAccuracy), Math.Round(watch.Elapsed.TotalSeconds, 3));

    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    /// <summary>Writes the parameters as float32 safetensors under their <see cref="ParameterLayout"/> names (<c>&lt;layer&gt;.weight</c>, <c>&lt;layer&gt;.bias</c>).</summary>
    private static void Save(string path, ParameterLayout layout, IReadOnlyList<Parameter> parameters, int epoch)
    {
        var tensors = new List<NamedArray>(parameters.Count);
        for (int i = 0; i < parameters.Count; i++)
        {
            using var values = parameters[i].detach().cpu().contiguous();
            tensors.Add(new NamedArray(layout.Parameters[i].Name, values.shape, values.data<float>().ToArray().Select(v => (double)v).ToArray()));
        }
        Safetensors.Write(path, tensors, new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
        });
    }

    private static string Describe(EpochMetrics m)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"epoch {m.Epoch,2}: {(m.Epoch == 0 ? "initial loss" : "train loss")} {m.TrainLoss:F4}");
        if (m.TrainAccuracy is { } a)
            text += string.Create(CultureInfo.InvariantCulture, $", accuracy {a:P2}");
        if (m.TestLoss is { } tl)
            text += string.Create(CultureInfo.InvariantCulture, $"; test loss {tl:F4}");
        if (m.TestAccuracy is { } ta)
            text += string.Create(CultureInfo.InvariantCulture, $", accuracy {ta:P2}");
        return text + string.Create(CultureInfo.InvariantCulture, $"  ({m.Seconds:F1} s)");
    }
}
