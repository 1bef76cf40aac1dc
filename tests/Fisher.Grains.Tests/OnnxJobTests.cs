using Fisher.Contracts;
using Fisher.Estimators;

namespace Fisher.Grains.Tests;

/// <summary>
/// A job on an ONNX model (samples/fashion-cnn/model.onnx) through the grains: the planner and every worker load it
/// through the same path (ModelSource, LoadedNetwork), so 2 shards x layer groups on two silos give the direct loop's
/// moments; without an architecture file the likelihood override applies and the inputs are not scaled; without
/// either the job is refused naming the model.
/// </summary>
[Collection("clusters")]
public sealed class OnnxJobTests(TwoSiloCluster two) : IClassFixture<TwoSiloCluster>, IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("fisher-onnx-job-"); // under a data root

    private string Copy(string name)
    {
        var path = Path.Combine(_folder.FullName, name);
        File.Copy(Path.Combine(TestData.SampleFolder, "..", "fashion-cnn", name), path);
        return path;
    }

    [Fact]
    public async Task AnOnnxJobOnTwoSilosEqualsDirectWithTheHeadOrTheLikelihoodOverride()
    {
        var spec = TestData.Spec(inputs: 24, shards: 2, grouping: "layer", quantities: "i1,exact,empirical") with
        {
            ModelPath = Copy("model.onnx"),
            ArchitecturePath = Copy("model.json"),
        };
        var headed = await TestData.RunToEnd(two.Cluster.GrainFactory, "onnx-head-" + Guid.NewGuid().ToString("N")[..8], spec, TestTimeouts.Job);
        Assert.True(headed.State == JobState.Completed, headed.Error);
        Assert.Equal(["conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "fc"], headed.Groups);
        var direct = TestData.Direct(spec);
        TestData.AssertSame(direct, TestData.Flatten(await Submitter.Fetch(two.Cluster.GrainFactory, headed)), 1e-10, "onnx with head: 2 shards x layers vs direct");

        var bare = spec with { ArchitecturePath = "", Likelihood = LikelihoodFamily.Categorical };
        var unscaled = await TestData.RunToEnd(two.Cluster.GrainFactory, "onnx-bare-" + Guid.NewGuid().ToString("N")[..8], bare, TestTimeouts.Job);
        Assert.True(unscaled.State == JobState.Completed, unscaled.Error);
        var bareDirect = TestData.Direct(bare);
        TestData.AssertSame(bareDirect, TestData.Flatten(await Submitter.Fetch(two.Cluster.GrainFactory, unscaled)), 1e-10, "onnx without architecture vs direct");
        var first = direct.Keys.Order(StringComparer.Ordinal).First();
        Assert.NotEqual(direct[first].Mean[0], bareDirect[first].Mean[0]); // pixels × 1/255 vs raw pixels

        var refused = await TestData.RunToEnd(two.Cluster.GrainFactory, "onnx-none-" + Guid.NewGuid().ToString("N")[..8], spec with { ArchitecturePath = "" }, TestTimeouts.Job);
        Assert.Equal(JobState.Failed, refused.State);
        Assert.Equal(0, refused.TasksTotal);
        Assert.Contains($"{spec.ModelPath}: an ONNX model needs a likelihood", refused.Error, StringComparison.Ordinal);
    }

    /// <summary>
    /// Exact per-sample Î2 on the sample CNN costs about a second per input here, so one batch of 12 would hold a worker
    /// for many times the test cluster's 3 s lease without a heartbeat; the worker merges fewer rows per call (as many as
    /// fit in a slice at the speed measured so far) and the job completes with the moments of the direct loop, which runs
    /// the whole batch at once (with the labels of the empirical Fisher read in calls of every size).
    /// </summary>
    [Fact]
    public async Task AnExpensiveBatchRunsInCallsShorterThanTheLease()
    {
        var spec = TestData.Spec(inputs: 12, shards: 1, grouping: "all", quantities: "i2,empirical", draws: 1) with
        {
            ModelPath = Copy("model.onnx"),
            ArchitecturePath = Copy("model.json"),
            BatchSize = 12,
        };
        using (var network = Fisher.Data.LoadedNetwork.Load(Fisher.Data.ModelSource.ReadArchitecture(spec.ModelPath, spec.ArchitecturePath, null), spec.ModelPath, TorchSharp.torch.ScalarType.Float64))
        {
            double perInput = network.Graph!.EstimateCost(JobPlanner.EstimatorOptionsOf(spec, null)).MultiplyAddsPerInput;
            Assert.True(12 * perInput > 6e9, $"a batch costs {12 * perInput:E2} multiply-adds: too cheap to need smaller calls");
        }
        var status = await TestData.RunToEnd(two.Cluster.GrainFactory, "onnx-i2-" + Guid.NewGuid().ToString("N")[..8], spec, TestTimeouts.Job);
        Assert.True(status.State == JobState.Completed, status.Error);
        TestData.AssertSame(TestData.Direct(spec), TestData.Flatten(await Submitter.Fetch(two.Cluster.GrainFactory, status)), 1e-10, "i2 in small calls vs the direct loop");
    }

    public void Dispose() => _folder.Delete(recursive: true);
}
