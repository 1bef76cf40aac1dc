using System.Diagnostics;
using System.Globalization;
using Fisher.Data;
using Fisher.Estimators;
using static TorchSharp.torch;

namespace Fisher.Training;

/// <summary>
/// A whole dataset in memory: scaled float32 inputs, the likelihood's observed labels (with its draw axis of 1, from
/// <see cref="Likelihood.PrepareObservedLabels"/>) and, for class labels, the class indices for the accuracy.
/// </summary>
internal sealed class TrainingSet : IDisposable
{
    private TrainingSet(Tensor inputs, Tensor targets, Tensor? classes, double loadSeconds)
    {
        Inputs = inputs;
        Targets = targets;
        Classes = classes;
        LoadSeconds = loadSeconds;
    }

    public Tensor Inputs { get; }
    public Tensor Targets { get; }
    public Tensor? Classes { get; }
    public long Rows => Inputs.shape[0];
    public double LoadSeconds { get; }

    /// <summary>
    /// Reads the first <paramref name="rows"/> rows (0: all). Labels are class indices (categorical, or one-hot targets
    /// where <see cref="Likelihood.TakesOneHotTargets"/>) or one target column per output; <paramref name="option"/>
    /// names the data set in errors ("training inputs").
    /// </summary>
    public static TrainingSet Load(ModelArchitecture architecture, Likelihood likelihood, string dataPath, string labelsPath, long rows, string option)
    {
        var watch = Stopwatch.StartNew();
        using var data = Dataset.Open(dataPath, labelsPath);
        if (data.Features != architecture.Widths[0])
            throw new ArgumentException($"{option}: rows of {dataPath} have {data.Features} values, but the architecture's input width is {architecture.Widths[0]}");
        long n = rows > 0 ? Math.Min(rows, data.Rows) : data.Rows;
        if (n == 0)
            throw new ArgumentException($"{option}: {dataPath} has no rows");

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
        var y = tensor(labels, [n, data.LabelColumns], ScalarType.Float64);
        if (data.LabelColumns == 1)
            y = y.squeeze(1);
        Tensor targets;
        Tensor? classes = null;
        try
        {
            if (likelihood.TakesOneHotTargets(data.LabelColumns))
            {
                var oneHot = likelihood.OneHotTargets(y);
                classes = y.to(ScalarType.Int64);
                targets = likelihood.PrepareObservedLabels(oneHot, n, ScalarType.Float32);
            }
            else
            {
                targets = likelihood.PrepareObservedLabels(y, n, ScalarType.Float32);
                if (likelihood.HasClassLabels)
                    classes = targets.squeeze(1);
            }
        }
        catch (InvalidBatchException e)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{labelsPath}: {e.Message.Split(" (Parameter")[0]}"), e);
        }
        return new TrainingSet(x.DetachFromDisposeScope(), targets.DetachFromDisposeScope(), classes?.DetachFromDisposeScope(), watch.Elapsed.TotalSeconds);
    }

    public void Dispose()
    {
        Classes?.Dispose();
        Targets.Dispose();
        Inputs.Dispose();
    }
}
