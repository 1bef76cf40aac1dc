using System.Diagnostics;
using System.Globalization;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;
using Fisher.Grains;
using static TorchSharp.torch;

namespace Fisher.Bench.Distributed;

/// <summary>
/// The steps of a worker timed one by one on one thread: reading the rows (sequentially, and as the shards read them,
/// each decompressing the gzip stream from its start), loading a model replica, creating the batch tensors, the
/// estimator itself, and turning a task's accumulator into chunks.
/// </summary>
internal static class Breakdown
{
    public static IEnumerable<(string Label, double Seconds, string Note)> Run(Options options)
    {
        var spec = Workload.Spec(options, options.Inputs, "all");
        long n = options.Inputs;
        int batch = options.Batch;
        var architecture = ModelArchitecture.Read(spec.ArchitecturePath);
        var (quantities, dtype) = JobPlanner.Resolve(spec);

        // Warm-up: JIT and torch kernels.
        Cases.DirectRange(spec, 0, Math.Min(n, 2L * batch));

        // 1. Reading every row once, in order.
        int features;
        var x = new double[n * 784];
        var y = new double[n];
        var clock = Stopwatch.StartNew();
        using (var data = Dataset.Open(spec.InputsPath, spec.LabelsPath))
        {
            features = data.Features;
            for (long first = 0; first < n; first += batch)
            {
                int count = (int)Math.Min(batch, n - first);
                data.ReadInputs(first, count, x.AsSpan((int)(first * features), count * features));
                data.ReadLabels(first, count, y.AsSpan((int)first, count));
            }
        }
        yield return ("data: read the rows once, in order (IDX .gz → double[])", clock.Elapsed.TotalSeconds, "the direct loop on 1 thread pays this");

        // 2. Reading the rows as the shards do: each task opens the files at its first row (a .gz file: in the plain copy
        // DecompressedCopies makes once per machine; FISHER_CACHE_DIR="" decompresses from byte 0 instead).
        var buffer = new double[batch * features];
        var labels = new double[batch];
        clock.Restart();
        for (int s = 0; s < options.Shards; s++)
        {
            long first = n * s / options.Shards, next = n * (s + 1) / options.Shards;
            using var data = Dataset.Open(spec.InputsPath, spec.LabelsPath);
            for (long row = first; row < next; row += batch)
            {
                int count = (int)Math.Min(batch, next - row);
                data.ReadInputs(row, count, buffer.AsSpan(0, count * features));
                data.ReadLabels(row, count, labels.AsSpan(0, count));
            }
        }
        yield return ($"data: read as {options.Shards} shard tasks (each seeks to its first row in the plain copy of the .gz file)", clock.Elapsed.TotalSeconds,
            $"per group; grouping per layer pays it 3 times. Without the copy (FISHER_CACHE_DIR=\"\") the shards decompress {(options.Shards + 1) / 2.0:0.#} x the rows");

        // 3. Loading a model replica (architecture, safetensors, network, estimator): once per task.
        const int loads = 5;
        clock.Restart();
        for (int i = 0; i < loads; i++)
        {
            using var network = ModelLoader.Load(ModelArchitecture.Read(spec.ArchitecturePath), spec.ModelPath, dtype);
            _ = new FisherEstimator(network, JobPlanner.CreateLikelihood(spec, architecture), new EstimatorOptions { Quantities = quantities, DrawsPerInput = 1, Seed = spec.Seed });
        }
        double load = clock.Elapsed.TotalSeconds / loads;
        yield return ($"model replica: load x {options.Shards} tasks", load * options.Shards, string.Create(CultureInfo.InvariantCulture, $"{load * 1000:0.0} ms per task"));

        // 4. Batch tensors from the double[] rows: tensor, narrow, scale and shift, to float32, labels.
        int batches = (int)((n + batch - 1) / batch);
        var inputsPerBatch = new Tensor[batches];
        var labelsPerBatch = new Tensor[batches];
        clock.Restart();
        for (int b = 0; b < batches; b++)
        {
            long first = (long)b * batch;
            int count = (int)Math.Min(batch, n - first);
            using var scope = NewDisposeScope();
            Array.Copy(x, first * features, buffer, 0, count * features);
            Array.Copy(y, first, labels, 0, count);
            var input = architecture.Input.Apply(tensor(buffer, [batch, features]).narrow(0, 0, count)).to(dtype);
            var label = tensor(labels, [batch]).narrow(0, 0, count);
            inputsPerBatch[b] = input.MoveToOuterDisposeScope();
            labelsPerBatch[b] = label.MoveToOuterDisposeScope();
        }
        yield return ("batch tensors: tensor(double[]) → scale → float32, labels", clock.Elapsed.TotalSeconds, $"{batches} batches");

        // 5. The estimator alone on ready tensors, into one accumulator.
        using (var network = ModelLoader.Load(architecture, spec.ModelPath, dtype))
        {
            var estimator = new FisherEstimator(network, JobPlanner.CreateLikelihood(spec, architecture), new EstimatorOptions { Quantities = quantities, DrawsPerInput = 1, Seed = spec.Seed });
            using var accumulator = new FisherAccumulator();
            clock.Restart();
            for (int b = 0; b < batches; b++)
                estimator.Accumulate(accumulator, inputsPerBatch[b], labelsPerBatch[b], (long)b * batch);
            yield return ("estimator: FisherEstimator.Accumulate on ready tensors", clock.Elapsed.TotalSeconds, string.Create(CultureInfo.InvariantCulture, $"{n / clock.Elapsed.TotalSeconds:N0} samples/s"));

            // 6. End of a task: accumulator → managed moments → chunks for the aggregator.
            clock.Restart();
            var moments = accumulator.ToMoments();
            double toMoments = clock.Elapsed.TotalSeconds;
            var task = new TaskAssignment("bench", "s0g0", 1, spec, 0, n, 0, "all", network.Layout.All.Parameters.Select(p => p.Name).ToArray(), LeaseKey: "bench");
            var chunks = PartialShipper.Chunks(task, moments, new FisherOptions().ChunkElements);
            double chunking = clock.Elapsed.TotalSeconds - toMoments;
            long doubles = moments.Streams.Values.Sum(m => 2L * m.Length);
            yield return ($"task end: ToMoments + Chunks, x {options.Shards} tasks", (toMoments + chunking) * options.Shards,
                string.Create(CultureInfo.InvariantCulture, $"{toMoments * 1000:0} + {chunking * 1000:0} ms per task; {moments.Streams.Count} streams, {doubles * 8 / 1e6:0.0} MB in {chunks.Count} chunks"));
        }
        foreach (var t in inputsPerBatch.Concat(labelsPerBatch))
            t.Dispose();
    }
}
