using System.Diagnostics;
using System.Globalization;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;
using Fisher.Grains.Telemetry;
using TorchSharp;
using static TorchSharp.torch;

namespace Fisher.Grains;

/// <summary>
/// The synchronous tensor work of one task: the model replica, the open rows, the estimator and its accumulator.
/// Every method runs as one block on a thread-pool thread (never on a grain turn); one call at a time.
/// </summary>
internal sealed class ShardComputation : IDisposable
{
    private readonly TaskAssignment _task;
    private readonly LoadedNetwork _network;
    private readonly Dataset _data;
    private readonly FisherEstimator _estimator;
    private readonly FisherAccumulator _accumulator = new();
    private readonly InputScaling _scaling;
    private readonly ScalarType _dtype;
    private readonly double[] _inputs;
    private readonly double[] _labels;
    private readonly bool _useLabels;
    private readonly Likelihood _likelihood;
    private readonly bool _oneHot;
    private readonly bool _adaptive;
    private int _rowsPerCall;

    /// <summary>
    /// Estimated multiply-adds of the first call into the estimator for a layer graph: a graph whose inputs are expensive
    /// (exact per-sample Î2 through convolutions: LayerGraph.EstimateCost) starts with fewer rows than the batch size,
    /// and later calls take as many rows as fit in a slice at the speed measured so far, so a slice (and its heartbeat)
    /// never waits for a batch of minutes.
    /// </summary>
    internal const double MultiplyAddsPerCall = 2e8;

    /// <summary>
    /// Loads the replica and opens the rows of a task, each file checked against <paramref name="roots"/> again (this
    /// silo's view, now); bad files throw <see cref="JobSpecException"/>.
    /// </summary>
    public ShardComputation(TaskAssignment task, int torchThreads, DataRoots roots)
    {
        ArgumentNullException.ThrowIfNull(task);
        TorchRuntime.Configure(torchThreads);
        _task = task;
        var spec = task.Spec;
        var (quantities, dtype) = JobPlanner.Resolve(spec);
        _dtype = dtype;
        var files = SpecFiles.Resolve(spec, roots);
        try
        {
            var architecture = ModelSource.ReadArchitecture(files.Model, files.Architecture, spec.Likelihood);
            _scaling = architecture.Input;
            _network = LoadedNetwork.Load(architecture, files.Model, dtype);
            _likelihood = JobPlanner.CreateLikelihood(spec, architecture, _network.OutputWidth);
            _useLabels = quantities.HasFlag(FisherQuantity.Empirical);
            _data = Dataset.Open(files.Inputs, _useLabels ? files.Labels : null);
            _oneHot = _useLabels && _likelihood.TakesOneHotTargets(_data.LabelColumns);
            _estimator = _network.CreateEstimator(_likelihood, JobPlanner.EstimatorOptionsOf(spec, task.Parameters));
        }
        catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException or InvalidNetworkException or UnsupportedLayerException or ArgumentException or JobSpecException)
        {
            _network?.Dispose();
            _data?.Dispose();
            throw new JobSpecException(e.Message, e);
        }
        int batch = (int)Math.Min(spec.BatchSize, task.Rows); // the buffers hold a whole batch: calls may grow to it
        _inputs = new double[batch * _data.Features];
        _labels = new double[_useLabels ? batch * _data.LabelColumns : 0];
        _rowsPerCall = batch;
        if (_network.Graph is { } graph)
        {
            double perInput = graph.EstimateCost(JobPlanner.EstimatorOptionsOf(spec, task.Parameters)).MultiplyAddsPerInput;
            _rowsPerCall = (int)Math.Clamp(Math.Floor(MultiplyAddsPerCall / Math.Max(perInput, 1)), 1, batch);
            _adaptive = true;
        }
    }

    /// <summary>Rows of the task merged so far.</summary>
    public long RowsDone { get; private set; }

    /// <summary>True when every row of the task is merged.</summary>
    public bool IsDone => RowsDone >= _task.Rows;

    /// <summary>Merges batches until <paramref name="budget"/> has passed or the task is done; returns <see cref="IsDone"/>.</summary>
    public bool Advance(TimeSpan budget)
    {
        var clock = Stopwatch.StartNew();
        while (!IsDone && clock.Elapsed < budget)
        {
            int count = (int)Math.Min(_rowsPerCall, _task.Rows - RowsDone);
            long first = _task.FirstRow + RowsDone;
            long started = Stopwatch.GetTimestamp();
            try
            {
                MergeBatch(first, count);
            }
            catch (Exception e) when (e is InvalidBatchException or DataFormatException or IOException or ArgumentException)
            {
                // Name the file the bad value came from: the labels file for label errors, else the inputs.
                var file = e is InvalidBatchException { Field: "labels" } ? _task.Spec.LabelsPath : _task.Spec.InputsPath;
                throw new JobSpecException(string.Create(CultureInfo.InvariantCulture,
                    $"{file}, rows {first}..{first + count - 1}: {e.Message}"), e);
            }
            RowsDone += count;
            var took = Stopwatch.GetElapsedTime(started);
            WorkerMetrics.BatchMerged(_task.GroupName, count, took);
            if (_adaptive)
                _rowsPerCall = (int)Math.Clamp(Math.Floor(budget.TotalSeconds * count / Math.Max(took.TotalSeconds, 1e-6)), 1, _task.Spec.BatchSize);
        }
        return IsDone;
    }

    private void MergeBatch(long first, int count)
    {
        using var scope = NewDisposeScope();
        int features = _data.Features;
        var inputs = _inputs.AsSpan(0, count * features);
        _data.ReadInputs(first, count, inputs);
        var x = tensor(_inputs, [_inputs.Length / features, features], ScalarType.Float64);
        if (x.shape[0] != count)
            x = x.narrow(0, 0, count);
        x = _scaling.Apply(x).to(_dtype);
        Tensor? y = null;
        if (_useLabels)
        {
            int columns = _data.LabelColumns;
            _data.ReadLabels(first, count, _labels.AsSpan(0, count * columns));
            y = tensor(_labels, [_labels.Length / columns, columns], ScalarType.Float64).narrow(0, 0, count);
            if (columns == 1)
                y = y.squeeze(1);
            if (_oneHot)
                y = _likelihood.OneHotTargets(y);
        }
        _estimator.Accumulate(_accumulator, x, y, first);
    }

    /// <summary>A managed copy of the task's moments.</summary>
    public FisherMoments Result() => _accumulator.ToMoments();

    /// <inheritdoc />
    public void Dispose()
    {
        _accumulator.Dispose();
        _network.Dispose();
        _data.Dispose();
    }
}
