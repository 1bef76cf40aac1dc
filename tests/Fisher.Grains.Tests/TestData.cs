using Fisher.Results;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;
using Fisher.Grains;
using static TorchSharp.torch;

namespace Fisher.Grains.Tests;

/// <summary>The bundled Fashion-MNIST sample and helpers to run and check jobs.</summary>
public static class TestData
{
    public static string SampleFolder { get; } = FindSample();

    public static string Model => Path.Combine(SampleFolder, "model.pt");
    public static string Architecture => Path.Combine(SampleFolder, "model.json");
    public static string Images => Path.Combine(SampleFolder, "t10k-2000-images-idx3-ubyte.gz");
    public static string Labels => Path.Combine(SampleFolder, "t10k-2000-labels-idx1-ubyte.gz");

    /// <summary>The test silos' data roots: the bundled sample and the temporary folder the tests write their files to.</summary>
    public static IReadOnlyList<string> DataRoots { get; } = [SampleFolder, Path.GetTempPath()];

    private static string FindSample()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var folder = Path.Combine(dir.FullName, "samples", "fashion-mnist");
            if (File.Exists(Path.Combine(folder, "model.pt")))
                return folder;
        }
        throw new InvalidOperationException("samples/fashion-mnist not found above " + AppContext.BaseDirectory);
    }

    public static JobSpec Spec(long inputs, int shards, string grouping, string quantities = "all", int draws = 2, string precision = "float64") => new()
    {
        ModelPath = Model,
        ArchitecturePath = Architecture,
        InputsPath = Images,
        LabelsPath = Labels,
        Quantities = FisherQuantityNames.Parse(quantities),
        DrawsPerInput = draws,
        Inputs = inputs,
        Shards = shards,
        Grouping = SpecNames.Groupings.Parse(grouping),
        BatchSize = 64,
        Seed = 42,
        Precision = SpecNames.DTypes.Parse(precision),
    };

    public static async Task<JobStatus> RunToEnd(IGrainFactory grains, string jobId, JobSpec spec, TimeSpan timeout)
    {
        var job = grains.GetGrain<IFisherJobGrain>(jobId);
        var status = await job.StartAsync(spec); // started before: the same status, and the token kept from then
        var deadline = DateTime.UtcNow + timeout;
        while (!status.IsFinished)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException(TestTimeouts.Exceeded(timeout, $"job {jobId} to finish: {status.State}, {status.TasksCompleted}/{status.TasksTotal} tasks"));
            await Task.Delay(100);
            status = await job.GetStatusAsync();
        }
        return status;
    }

    /// <summary>The same quantities computed directly by the estimator core, one accumulator over all rows, no grains.</summary>
    public static Dictionary<string, Moments> Direct(JobSpec spec, bool doublePrecisionMoments = true)
    {
        TorchRuntime.Configure(1);
        long rows = spec.Inputs;
        if (rows == 0)
        {
            using var data = Dataset.Open(spec.InputsPath, spec.LabelsPath);
            rows = data.Rows - spec.FirstInput;
        }
        return DirectLoop.Run(spec, spec.FirstInput, rows, batchSize: 100, doublePrecisionMoments)
            .Streams.ToDictionary(s => s.Key.ToString(), s => s.Value);
    }

    /// <summary>Every stream of <paramref name="actual"/> equals <paramref name="expected"/>: same count, mean and M2 to <paramref name="relative"/> of the stream's largest value.</summary>
    public static void AssertSame(IReadOnlyDictionary<string, Moments> expected, IReadOnlyDictionary<string, Moments> actual, double relative, string what)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, e) in expected)
        {
            var a = actual[key];
            Assert.True(e.Count == a.Count, $"{what}: {key}: count {a.Count}, expected {e.Count}");
            Compare(e.Mean, a.Mean, relative, $"{what}: {key} mean");
            Compare(e.M2, a.M2, relative, $"{what}: {key} M2");
        }
    }

    private static void Compare(double[] expected, double[] actual, double relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(Math.Abs);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        Assert.True(worst <= relative * scale, $"{what}: max difference {worst:E3} over scale {scale:E3} exceeds {relative:E0}");
    }

    public static Dictionary<string, Moments> Flatten(IReadOnlyList<GroupMoments> groups) =>
        groups.SelectMany(g => g.Streams).ToDictionary(s => s.Key, s => s.Value);
}
