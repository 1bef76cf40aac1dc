using System.Globalization;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;
using Fisher.Estimators.Graph;

namespace Fisher.Grains;

/// <summary>
/// The peak memory of a job, estimated at planning from the architecture's widths and the spec alone (before the
/// weights or rows are read), with checked arithmetic: per task (model replica, moment accumulators of the largest
/// group, a batch of inputs, and per layer the per-sample tensors of a batch) and per aggregator (the merged moments of
/// the largest group). Each is the sum of named contributors, so a refusal can name the one driving it. It covers what
/// the job allocates, not the process's fixed footprint (runtime, libtorch); measured against a real silo in
/// docs/security.md ("Memory budget").
/// </summary>
internal sealed record MemoryEstimate(MemoryEstimate.Part Task, MemoryEstimate.Part Aggregator)
{
    /// <summary>A total and its largest contributor (bytes; <see cref="long.MaxValue"/> when it overflows 64 bits).</summary>
    internal sealed record Part(long Bytes, string Largest, long LargestBytes);

    // Bytes per float64 moment element: per task, the accumulator's mean, M2, sum and sum of squares, the pending Gram
    // product and the mean and M2 copy that is shipped; per aggregator, the merged mean and M2 and their persisted copy.
    private const long TaskMomentBytes = 4 * 8 + 8 + 2 * 8;
    private const long AggregatorMomentBytes = 2 * 2 * 8;

    // libtorch's float64 matrix products (the power sums, §3.5) add a fixed 48 MiB to a job's peak (measured: docs/security.md).
    private const long PowerWorkspaceBytes = 48L << 20;

    /// <summary>Estimates a spec's job over <paramref name="architecture"/>'s widths.</summary>
    public static MemoryEstimate Of(JobSpec spec, ModelArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(architecture);
        var widths = architecture.Widths.Select(w => (long)w).ToArray();
        long streams = JobPlanner.Resolve(spec).Quantities.Split().Count();
        long group = Bounded(() => LargestGroup(widths, spec.Grouping));
        var aggregator = Sum([(Text($"moments of a group of {group} parameters x {streams} streams"), () => checked(group * streams * AggregatorMomentBytes))]);
        return new MemoryEstimate(Sum(TaskContributors(spec, architecture, widths, streams, group)), aggregator);
    }

    /// <summary>
    /// Estimates a spec's job over a loaded layer graph: its parameters, the moments of its largest group, a batch of
    /// inputs and, with the graph's <paramref name="cost"/>, the working values of a batch (bytes per input x batch size,
    /// at most what one micro-batch of the estimator holds: EstimatorCost.BytesForBatch).
    /// </summary>
    public static MemoryEstimate Of(JobSpec spec, LoadedNetwork network, EstimatorCost? cost = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(network);
        long streams = JobPlanner.Resolve(spec).Quantities.Split().Count();
        long group = Bounded(() => network.Groups(spec.Grouping).Max(g => g.Size));
        long parameters = network.Layout.Size, element = spec.Precision == ComputeDType.Float64 ? 8 : 4;
        var aggregator = Sum([(Text($"moments of a group of {group} parameters x {streams} streams"), () => checked(group * streams * AggregatorMomentBytes))]);
        var parts = new List<(string, Func<long>)>
        {
            (Text($"model parameters ({parameters})"), () => checked(parameters * (8 + 8 + element))),
            (Text($"moment accumulators of a group of {group} parameters x {streams} streams"), () => checked(group * streams * TaskMomentBytes)),
            (Text($"a batch of {spec.BatchSize} inputs x {network.InputSize} values"), () => checked(spec.BatchSize * network.InputSize * (3 * 8 + element))),
        };
        if (cost is not null)
            parts.Add((Text($"working values of a batch of {spec.BatchSize} inputs (layer '{cost.DrivingLayer}' drives the cost)"), () => cost.BytesForBatch(spec.BatchSize)));
        var task = Sum(parts);
        return new MemoryEstimate(task, aggregator);
    }

    private static List<(string What, Func<long> Bytes)> TaskContributors(JobSpec spec, ModelArchitecture architecture, long[] widths, long streams, long group)
    {
        long element = spec.Precision == ComputeDType.Float64 ? 8 : 4;
        long batch = spec.BatchSize, draws = spec.DrawsPerInput, classes = widths[^1];
        // Second-order residuals exist for Î2 and V2 (and their parts) in networks with a smooth activation (§5.3d).
        var quantities = JobPlanner.Resolve(spec).Quantities;
        long residual = architecture.Activations.Any(a => !a.IsPiecewiseLinear)
            && (quantities & (FisherQuantity.NegativeHessian | FisherQuantity.NegativeHessianVariance | FisherQuantity.NegativeHessianInputMean
                | FisherQuantity.NegativeHessianNegative | FisherQuantity.V2Upper | FisherQuantity.V2Lower)) != 0 ? 1 : 0;
        long bounds = (quantities & FisherQuantity.Bounds) != 0 ? 1 : 0;
        // The power streams of exact and empirical (§3.5) run in float64 whatever the compute dtype: counted apart.
        long powers = (quantities & FisherQuantity.PowerSums).Split().Count();
        long unitStreams = streams - powers;
        var parts = new List<(string, Func<long>)>
        {
            // Read as float64 arrays, copied to a float64 tensor, then converted to the compute dtype.
            (Text($"model parameters ({Bounded(() => Parameters(widths))})"), () => checked(Parameters(widths) * (8 + 8 + element))),
            (Text($"moment accumulators of a group of {group} parameters x {streams} streams"), () => checked(group * streams * TaskMomentBytes)),
            // The rows as read (float64), as a tensor, scaled, and in the compute dtype.
            (Text($"a batch of {batch} inputs x {widths[0]} features"), () => checked(batch * widths[0] * (3 * 8 + element))),
        };
        for (int l = 1; l < widths.Length; l++)
        {
            long units = widths[l], below = widths[l - 1], deeper = widths.Skip(l + 1).Sum();
            // Per sample and unit: the forward trace (z, a, f', f''); the Jacobian rows of the classes (with residuals,
            // and the bounds' projected copies); the drawn scores and their squares; the per-unit values of each stream
            // with their temporaries; per input unit, the powers of the layer input; with residuals, the carried
            // second-order factors towards deeper layers. Coefficients fitted to measured peaks (docs/security.md).
            parts.Add((Text($"layer '{architecture.LayerNames[l - 1]}' per-sample values (batch size {batch} x {units} units x ({classes} classes + {draws} draws) x {unitStreams} streams)"),
                () => checked(batch * element * (units * (4 + classes * (1 + residual + 6 * bounds) + 2 * draws * (1 + residual) + 6 * unitStreams)
                    + 3 * below + residual * units * deeper / 2))));
            // The float64 powers of the layer input (A∘6, A∘8, A∘12, A∘16 and their temporaries) and the power values.
            if (powers > 0)
                parts.Add((Text($"layer '{architecture.LayerNames[l - 1]}' float64 power sums (batch size {batch} x ({below} inputs + {units} units x {powers} streams))"),
                    () => checked(batch * 8 * (6 * below + 6 * units * powers))));
        }
        if (powers > 0)
            parts.Add(("float64 product workspace of the power sums", () => PowerWorkspaceBytes));
        return parts;
    }

    /// <summary>Parameters of a network of these widths (weights and biases).</summary>
    private static long Parameters(long[] widths)
    {
        long total = 0;
        for (int l = 1; l < widths.Length; l++)
            total = checked(total + widths[l] * widths[l - 1] + widths[l]);
        return total;
    }

    private static long LargestGroup(long[] widths, Grouping grouping)
    {
        var layers = Enumerable.Range(1, widths.Length - 1).Select(l => checked(widths[l] * widths[l - 1] + widths[l])).ToArray();
        return grouping switch
        {
            Grouping.All => Parameters(widths),
            Grouping.PerLayer => layers.Max(),
            _ => Enumerable.Range(1, widths.Length - 1).Max(l => checked(widths[l] * widths[l - 1])),
        };
    }

    private static Part Sum(List<(string What, Func<long> Bytes)> parts)
    {
        long total = 0, largestBytes = -1;
        string largest = "";
        foreach (var (what, bytes) in parts)
        {
            long b = Bounded(bytes);
            total = b > long.MaxValue - total ? long.MaxValue : total + b;
            if (b > largestBytes)
                (largest, largestBytes) = (what, b);
        }
        return new Part(total, largest, largestBytes);
    }

    private static long Bounded(Func<long> bytes)
    {
        try
        {
            return bytes();
        }
        catch (OverflowException)
        {
            return long.MaxValue;
        }
    }

    /// <summary>Bytes for people: "1.5 GiB" (binary units), or "more than 8 EiB" for an overflow.</summary>
    public static string Format(long bytes)
    {
        if (bytes == long.MaxValue)
            return "more than 8 EiB";
        string[] units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        double value = bytes;
        int u = 0;
        for (; value >= 1024 && u < units.Length - 1; u++)
            value /= 1024;
        return u == 0 ? Text($"{bytes} bytes") : Text($"{value:0.#} {units[u]}");
    }

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
