using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fisher.Data;
using Fisher.Estimators;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Fisher.Client;

/// <summary>What <c>fisher train</c> does: the files, the optimiser and the seed.</summary>
internal sealed record TrainOptions
{
    public required string ArchitecturePath { get; init; }
    public required string DataPath { get; init; }
    public required string LabelsPath { get; init; }
    public string? TestDataPath { get; init; }
    public string? TestLabelsPath { get; init; }
    public required string OutFolder { get; init; }
    public int Epochs { get; init; } = 10;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 1e-3;
    public ulong Seed { get; init; }
    /// <summary>Training rows to use (0: all).</summary>
    public long Rows { get; init; }
}

/// <summary>One epoch's line of <c>training.json</c>; epoch 0 describes the initial weights.</summary>
internal sealed record EpochMetrics(int Epoch, string Checkpoint, double TrainLoss, double? TrainAccuracy, double? TestLoss, double? TestAccuracy, double Seconds);

/// <summary>
/// Trains the MLP of an architecture file with Adam on an IDX/NPY dataset in TorchSharp (float32) and writes
/// <c>epoch-NN.safetensors</c> checkpoints (epoch 00 = the initial weights), <c>model.json</c> and <c>training.json</c>.
/// The loss is the negative log-likelihood of the architecture's likelihood per example, averaged over the batch
/// (constants dropped): categorical → cross-entropy on logits; gaussian → ½‖y − f‖²/σ²; bernoulli → BCE with
/// logits; poisson → e^f − y f (log link). Class-index labels become one-hot targets for the non-categorical
/// likelihoods with several outputs, as the estimator's workers do.
/// </summary>
internal static class Training
{
    /// <summary>The checkpoint file of an epoch.</summary>
    public static string CheckpointName(int epoch) => string.Create(CultureInfo.InvariantCulture, $"epoch-{epoch:D2}.safetensors");

    public static IReadOnlyList<EpochMetrics> Run(TrainOptions options, TextWriter log, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Epochs < 1)
            throw new ArgumentException($"--epochs: must be at least 1, got {options.Epochs}");
        if (options.BatchSize < 1)
            throw new ArgumentException($"--batch-size: must be at least 1, got {options.BatchSize}");
        if (!(options.LearningRate > 0) || !double.IsFinite(options.LearningRate))
            throw new ArgumentException($"--lr: must be a positive number, got {options.LearningRate.ToString(CultureInfo.InvariantCulture)}");
        foreach (var (path, option) in new[] { (options.ArchitecturePath, "--architecture"), (options.DataPath, "--data"), (options.LabelsPath, "--labels"), (options.TestDataPath, "--test-data"), (options.TestLabelsPath, "--test-labels") })
        {
            if (path is not null && !File.Exists(path))
                throw new ArgumentException($"{option}: no file '{path}'");
        }
        if ((options.TestDataPath is null) != (options.TestLabelsPath is null))
            throw new ArgumentException("--test-data and --test-labels go together");

        TorchRuntime.Configure(Environment.ProcessorCount);
        var architecture = ModelArchitecture.Read(options.ArchitecturePath);
        int outputs = architecture.Widths[^1];
        var total = Stopwatch.StartNew();

        using var train = TrainingSet.Load(architecture, options.DataPath, options.LabelsPath, options.Rows, "--data");
        using var test = options.TestDataPath is null ? null : TrainingSet.Load(architecture, options.TestDataPath, options.TestLabelsPath!, 0, "--test-data");
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Training {string.Join("-", architecture.Widths)} {string.Join(",", architecture.Activations.Select(a => a.Name).Distinct())} ({architecture.Likelihood}) on {train.Rows:N0} rows of {Path.GetFileName(options.DataPath)}{(test is null ? "" : $", testing on {test.Rows:N0}")}: Adam lr {options.LearningRate}, batch {options.BatchSize}, {options.Epochs} epochs, seed {options.Seed} ({train.LoadSeconds + (test?.LoadSeconds ?? 0):F1} s to load)"));

        Directory.CreateDirectory(options.OutFolder);
        File.Copy(options.ArchitecturePath, Path.Combine(options.OutFolder, "model.json"), overwrite: true);

        using var model = new Mlp(architecture, options.Seed);
        using var optimizer = optim.Adam(model.Parameters, lr: options.LearningRate);
        using var generator = new Generator(options.Seed);

        var metrics = new List<EpochMetrics>();
        {
            // Epoch 0: the initial weights, evaluated on the whole training set.
            var watch = Stopwatch.StartNew();
            var (trainLoss, trainAccuracy) = model.Evaluate(train);
            var (testLoss, testAccuracy) = test is null ? (null, null) : ((double?, double?))model.Evaluate(test);
            model.Save(Path.Combine(options.OutFolder, CheckpointName(0)), 0);
            metrics.Add(new EpochMetrics(0, CheckpointName(0), trainLoss, trainAccuracy, testLoss, testAccuracy, watch.Elapsed.TotalSeconds));
            log.WriteLine(Describe(metrics[^1]));
        }
        for (int epoch = 1; epoch <= options.Epochs; epoch++)
        {
            cancellation.ThrowIfCancellationRequested();
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
                    var x = train.Inputs.index_select(0, index);
                    var target = train.Targets.index_select(0, index);
                    optimizer.zero_grad();
                    var output = model.Forward(x);
                    var loss = model.Loss(output, target);
                    loss.backward();
                    optimizer.step();
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
            var (testLoss, testAccuracy) = test is null ? (null, null) : ((double?, double?))model.Evaluate(test);
            model.Save(Path.Combine(options.OutFolder, CheckpointName(epoch)), epoch);
            metrics.Add(new EpochMetrics(epoch, CheckpointName(epoch), lossSum / seen, train.Classes is null ? null : (double)correct / seen, testLoss, testAccuracy, watch.Elapsed.TotalSeconds));
            log.WriteLine(Describe(metrics[^1]));
        }
        WriteJson(Path.Combine(options.OutFolder, "training.json"), options, architecture, train.Rows, test?.Rows, metrics, total.Elapsed.TotalSeconds);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{options.Epochs} epochs in {total.Elapsed.TotalSeconds:F1} s. Checkpoints: {Path.GetFullPath(options.OutFolder)} (epoch-00..{options.Epochs:D2}.safetensors, model.json, training.json)"));
        return metrics;
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

    private static void WriteJson(string path, TrainOptions options, ModelArchitecture architecture, long trainRows, long? testRows, IReadOnlyList<EpochMetrics> metrics, double seconds)
    {
        static JsonNode? Num(double? v) => v is { } d && double.IsFinite(d) ? JsonValue.Create(d) : null;
        var root = new JsonObject
        {
            ["architecture"] = JsonNode.Parse(architecture.ToJson()),
            ["data"] = Path.GetFullPath(options.DataPath),
            ["labels"] = Path.GetFullPath(options.LabelsPath),
            ["testData"] = options.TestDataPath is null ? null : Path.GetFullPath(options.TestDataPath),
            ["testLabels"] = options.TestLabelsPath is null ? null : Path.GetFullPath(options.TestLabelsPath),
            ["trainRows"] = trainRows,
            ["testRows"] = testRows,
            ["optimizer"] = "Adam",
            ["learningRate"] = options.LearningRate,
            ["batchSize"] = options.BatchSize,
            ["epochs"] = options.Epochs,
            ["seed"] = options.Seed,
            ["loss"] = "mean over examples of the negative log-likelihood without constants; epoch 0 = initial weights on the whole training set, later epochs = mean over the epoch's batches",
            ["seconds"] = Math.Round(seconds, 3),
            ["perEpoch"] = new JsonArray(metrics.Select(m => (JsonNode)new JsonObject
            {
                ["epoch"] = m.Epoch,
                ["checkpoint"] = m.Checkpoint,
                ["trainLoss"] = Num(m.TrainLoss),
                ["trainAccuracy"] = Num(m.TrainAccuracy),
                ["testLoss"] = Num(m.TestLoss),
                ["testAccuracy"] = Num(m.TestAccuracy),
                ["seconds"] = Math.Round(m.Seconds, 3),
            }).ToArray()),
        };
        File.WriteAllText(path, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>A whole dataset in memory as float32 tensors: scaled inputs, loss targets and (for class labels) class indices.</summary>
    private sealed class TrainingSet : IDisposable
    {
        public required Tensor Inputs { get; init; }
        public required Tensor Targets { get; init; }
        public Tensor? Classes { get; init; }
        public long Rows => Inputs.shape[0];
        public double LoadSeconds { get; init; }

        public static TrainingSet Load(ModelArchitecture architecture, string dataPath, string labelsPath, long rows, string option)
        {
            var watch = Stopwatch.StartNew();
            using var data = Dataset.Open(dataPath, labelsPath);
            int outputs = architecture.Widths[^1];
            if (data.Features != architecture.Widths[0])
                throw new ArgumentException($"{option}: rows of {dataPath} have {data.Features} values, but the architecture's input width is {architecture.Widths[0]}");
            long n = rows > 0 ? Math.Min(rows, data.Rows) : data.Rows;
            if (n == 0)
                throw new ArgumentException($"{option}: {dataPath} has no rows");
            bool categorical = architecture.Likelihood == "categorical";
            bool classes = data.LabelColumns == 1 && (categorical || outputs > 1);
            if (!classes && data.LabelColumns != outputs)
                throw new ArgumentException($"{labelsPath}: {data.LabelColumns} label columns; expected class indices (one column) or {outputs} target columns");

            var inputs = new float[checked(n * data.Features)];
            var labels = new double[checked(n * data.LabelColumns)];
            const int chunk = 1024;
            var buffer = new double[chunk * data.Features];
            double scale = architecture.Input.Scale, shift = architecture.Input.Shift;
            for (long first = 0; first < n; first += chunk)
            {
                int count = (int)Math.Min(chunk, n - first);
                var span = buffer.AsSpan(0, count * data.Features);
                data.ReadInputs(first, count, span);
                var destination = inputs.AsSpan(checked((int)(first * data.Features)), span.Length);
                for (int i = 0; i < span.Length; i++)
                    destination[i] = (float)(span[i] * scale + shift); // as the workers: scaled in float64, then float32
                data.ReadLabels(first, count, labels.AsSpan(checked((int)(first * data.LabelColumns)), count * data.LabelColumns));
            }

            using var scope = NewDisposeScope();
            var x = tensor(inputs, [n, data.Features]);
            Tensor targets;
            Tensor? classIndices = null;
            if (classes)
            {
                for (long i = 0; i < n; i++)
                {
                    double y = labels[i];
                    if (y != Math.Floor(y) || y < 0 || y >= outputs)
                        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{labelsPath}: row {i}: label {y} is not a class index 0..{outputs - 1}"));
                }
                classIndices = tensor(labels.Select(v => (long)v).ToArray(), [n]);
                targets = categorical ? classIndices : nn.functional.one_hot(classIndices, outputs).to(ScalarType.Float32);
            }
            else
            {
                targets = tensor(labels.Select(v => (float)v).ToArray(), [n, outputs]);
            }
            return new TrainingSet
            {
                Inputs = x.DetachFromDisposeScope(),
                Targets = targets.DetachFromDisposeScope(),
                Classes = classIndices?.DetachFromDisposeScope(),
                LoadSeconds = watch.Elapsed.TotalSeconds,
            };
        }

        public void Dispose()
        {
            if (!ReferenceEquals(Targets, Classes))
                Targets.Dispose();
            Classes?.Dispose();
            Inputs.Dispose();
        }
    }

    /// <summary>
    /// The network as weight and bias parameters, initialised like PyTorch's <c>nn.Linear</c>: weight and bias
    /// uniform on ±1/√fan_in (kaiming_uniform with a = √5), drawn layer by layer, weight first, from a generator
    /// seeded with the seed.
    /// </summary>
    private sealed class Mlp : IDisposable
    {
        private readonly ModelArchitecture _architecture;
        private readonly Parameter[] _weights;
        private readonly Parameter[] _biases;
        private readonly Tensor _lossScale;

        public Mlp(ModelArchitecture architecture, ulong seed)
        {
            _architecture = architecture;
            int layers = architecture.Widths.Count - 1;
            _weights = new Parameter[layers];
            _biases = new Parameter[layers];
            using var generator = new Generator(seed);
            using var scope = NewDisposeScope();
            for (int l = 0; l < layers; l++)
            {
                long fanIn = architecture.Widths[l], fanOut = architecture.Widths[l + 1];
                double bound = 1.0 / Math.Sqrt(fanIn);
                using var low = tensor(-bound, ScalarType.Float32);
                using var width = tensor(2 * bound, ScalarType.Float32);
                var w = rand([fanOut, fanIn], ScalarType.Float32, generator: generator).mul(width).Plus(low);
                var b = rand([fanOut], ScalarType.Float32, generator: generator).mul(width).Plus(low);
                _weights[l] = new Parameter(w.detach(), requires_grad: true);
                _biases[l] = new Parameter(b.detach(), requires_grad: true);
                _weights[l].DetachFromDisposeScope();
                _biases[l].DetachFromDisposeScope();
            }
            // 1/(2σ²) for the Gaussian, 1 otherwise: a 0-dim tensor (no Scalar arguments in the loop).
            _lossScale = tensor(architecture.Likelihood == "gaussian" ? 0.5 / architecture.Variance : 1.0, ScalarType.Float32).DetachFromDisposeScope();
        }

        public IEnumerable<Parameter> Parameters => _weights.Zip(_biases).SelectMany(p => new[] { p.First, p.Second });

        public Tensor Forward(Tensor x)
        {
            var a = x;
            for (int l = 0; l < _weights.Length; l++)
            {
                var z = nn.functional.linear(a, _weights[l], _biases[l]);
                a = l + 1 < _weights.Length ? Activate(_architecture.Activations[l], z) : z;
            }
            return a;
        }

        private static Tensor Activate(Activation activation, Tensor z) => activation.Kind switch
        {
            ActivationKind.Identity => z,
            ActivationKind.Relu => z.relu(),
            ActivationKind.LeakyRelu => nn.functional.leaky_relu(z, activation.NegativeSlope),
            ActivationKind.Tanh => z.tanh(),
            ActivationKind.Sigmoid => z.sigmoid(),
            ActivationKind.Softplus => z.relu().Plus(z.abs().neg().exp().log1p()),
            ActivationKind.Gelu => nn.functional.gelu(z),
            ActivationKind.Silu => z.mul(z.sigmoid()),
            _ => throw new ArgumentException($"activation {activation.Name} cannot be trained"),
        };

        /// <summary>Mean over the batch of the per-example negative log-likelihood (constants dropped).</summary>
        public Tensor Loss(Tensor f, Tensor target) => _architecture.Likelihood switch
        {
            "categorical" => nn.functional.cross_entropy(f, target),
            "gaussian" => Square(f.Minus(target)).sum(1).mean().mul(_lossScale),
            // softplus(f) − y f = max(f, 0) − y f + log(1 + e^−|f|)
            "bernoulli" => f.relu().Minus(f.mul(target)).Plus(f.abs().neg().exp().log1p()).sum(1).mean(),
            "poisson" => f.exp().Minus(f.mul(target)).sum(1).mean(),
            var other => throw new ArgumentException($"likelihood {other} cannot be trained"),
        };

        private static Tensor Square(Tensor t) => t.mul(t);

        /// <summary>Mean loss and (for class labels) accuracy over a whole set, without gradients.</summary>
        public (double Loss, double? Accuracy) Evaluate(TrainingSet set)
        {
            using var noGrad = no_grad();
            double loss = 0;
            long correct = 0;
            const int chunk = 2048;
            for (long first = 0; first < set.Rows; first += chunk)
            {
                int count = (int)Math.Min(chunk, set.Rows - first);
                using var scope = NewDisposeScope();
                var f = Forward(set.Inputs.narrow(0, first, count));
                loss += Loss(f, set.Targets.narrow(0, first, count)).item<float>() * (double)count;
                if (set.Classes is not null)
                    correct += f.argmax(1).eq(set.Classes.narrow(0, first, count)).sum().item<long>();
            }
            return (loss / set.Rows, set.Classes is null ? null : (double)correct / set.Rows);
        }

        /// <summary>Writes the weights as float32 safetensors named <c>&lt;layer&gt;.weight</c>, <c>&lt;layer&gt;.bias</c>.</summary>
        public void Save(string path, int epoch)
        {
            var tensors = new List<NamedArray>();
            for (int l = 0; l < _weights.Length; l++)
            {
                tensors.Add(ToArray($"{_architecture.LayerNames[l]}.weight", _weights[l]));
                tensors.Add(ToArray($"{_architecture.LayerNames[l]}.bias", _biases[l]));
            }
            Safetensors.Write(path, tensors, new Dictionary<string, string>
            {
                ["format"] = "pt",
                ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
            });
        }

        private static NamedArray ToArray(string name, Tensor t)
        {
            using var values = t.detach().cpu().contiguous();
            return new NamedArray(name, values.shape, values.data<float>().ToArray().Select(v => (double)v).ToArray());
        }

        public void Dispose()
        {
            foreach (var p in _weights.Concat(_biases))
                p.Dispose();
            _lossScale.Dispose();
        }
    }
}
