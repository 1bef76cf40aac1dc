using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;

namespace Fisher.Grains.Tests;

/// <summary>
/// The planner estimates a job's memory from the architecture and spec before reading weights or rows, and refuses a
/// job over <see cref="FisherOptions.MemoryBudget"/> with the estimate, the budget and the largest contributor.
/// </summary>
[Collection("clusters")]
public sealed class MemoryBudgetTests(OneSiloCluster fixture) : IClassFixture<OneSiloCluster>
{
    private static readonly DataRoots Roots = new(TestData.DataRoots, FisherHosting.DataRootsSetting);

    private static MemoryEstimate Estimate(JobSpec spec) => MemoryEstimate.Of(spec, ModelArchitecture.Read(spec.ArchitecturePath));

    [Fact]
    public void A_job_over_the_budget_is_refused_with_the_numbers_and_a_job_at_it_is_planned()
    {
        var spec = TestData.Spec(inputs: 200, shards: 2, grouping: "layer");
        var estimate = Estimate(spec);
        var budget = estimate.Task.Bytes - 1;

        var e = Assert.Throws<JobSpecException>(() => JobPlanner.Plan(spec, Roots, budget));
        Assert.Equal($"memory: the job needs an estimated {MemoryEstimate.Format(estimate.Task.Bytes)} per task, over the memory budget of " +
            $"{MemoryEstimate.Format(budget)} (Fisher:Grains:MemoryBudget); largest: {estimate.Task.Largest}, {MemoryEstimate.Format(estimate.Task.LargestBytes)}", e.Message);
        Assert.Equal(6, JobPlanner.Plan(spec, Roots, estimate.Task.Bytes).Tasks.Count);
    }

    [Fact]
    public void The_largest_contributor_follows_the_setting_that_drives_it()
    {
        var wide = Estimate(TestData.Spec(inputs: 200, shards: 1, grouping: "all", draws: 64) with { BatchSize = 8192 });
        Assert.StartsWith("layer '0' per-sample values (batch size 8192 x 128 units x (10 classes + 64 draws)", wide.Task.Largest, StringComparison.Ordinal);
        var narrow = Estimate(TestData.Spec(inputs: 200, shards: 1, grouping: "all", draws: 1) with { BatchSize = 1 });
        Assert.StartsWith("moment accumulators of a group of 109386 parameters", narrow.Task.Largest, StringComparison.Ordinal);
        Assert.True(wide.Task.Bytes > 20 * narrow.Task.Bytes);
    }

    [Fact]
    public void An_architecture_whose_products_overflow_is_over_any_budget()
    {
        // The architecture reader refuses such widths (ReaderLimits); the estimate must not overflow either.
        var architecture = ModelArchitecture.Parse("""{"widths": [4, 3, 3, 10], "activation": "tanh", "likelihood": "categorical"}""", "small.json")
            with { Widths = [int.MaxValue, int.MaxValue, int.MaxValue, 10] };
        var estimate = MemoryEstimate.Of(TestData.Spec(inputs: 1, shards: 1, grouping: "all") with { BatchSize = JobSpecValidator.MaxBatchSize }, architecture);
        Assert.Equal(long.MaxValue, estimate.Task.Bytes);
        Assert.Equal("more than 8 EiB", MemoryEstimate.Format(estimate.Task.Bytes));
        Assert.Contains("over the memory budget", Assert.Throws<JobSpecException>(() => JobPlanner.ThrowIfOverBudget(estimate, long.MaxValue - 1)).Message, StringComparison.Ordinal);
    }

    /// <summary>The default budget admits the CLI's default job and the full Fashion-MNIST job (rows do not enter a task's estimate).</summary>
    [Fact]
    public void The_default_budget_admits_the_default_jobs()
    {
        foreach (var grouping in new[] { "all", "layer", "tensor" })
        {
            var spec = new JobSpec { ModelPath = TestData.Model, ArchitecturePath = TestData.Architecture, InputsPath = TestData.Images, Grouping = SpecNames.Groupings.Parse(grouping) };
            var estimate = Estimate(spec with { Quantities = FisherQuantityNames.Parse("all"), DrawsPerInput = 8, Precision = ComputeDType.Float64 });
            Assert.True(estimate.Task.Bytes < FisherOptions.DefaultMemoryBudget / 4, MemoryEstimate.Format(estimate.Task.Bytes));
            Assert.True(estimate.Aggregator.Bytes < FisherOptions.DefaultMemoryBudget / 4, MemoryEstimate.Format(estimate.Aggregator.Bytes));
        }
    }

    /// <summary>
    /// The estimates of the table in docs/security.md ("Against reality"), whose measured peaks they must stay at or
    /// above: if the estimate changes, the table (and its measurement) must be redone.
    /// </summary>
    [Theory]
    [InlineData(64, 1, "exact", 75)]
    [InlineData(2000, 1, "exact", 292)]
    [InlineData(2000, 1, "exact,bounds", 502)]
    [InlineData(2000, 1, "i2", 349)]
    [InlineData(2000, 1, "i1,i2,exact,v1,v2,bounds,i2_negative,empirical", 739)]
    [InlineData(2000, 64, "i1,exact", 565)]
    public void The_documented_estimates_are_the_estimates(int batch, int draws, string quantities, int mebibytes)
    {
        var spec = TestData.Spec(inputs: 2000, shards: 1, grouping: "all", quantities: quantities, draws: draws, precision: "float32") with { BatchSize = batch };
        Assert.Equal(mebibytes, (int)Math.Round(Estimate(spec).Task.Bytes / 1048576.0));
    }

    [Fact]
    public async Task A_cluster_refuses_a_job_over_its_budget_at_start_and_runs_one_under_it()
    {
        var grains = fixture.Cluster.GrainFactory;
        var big = TestData.Spec(inputs: 200, shards: 1, grouping: "all", draws: JobSpecValidator.MaxDrawsPerInput) with { BatchSize = JobSpecValidator.MaxBatchSize };
        var refused = await grains.GetGrain<IFisherJobGrain>("memory-" + Guid.NewGuid().ToString("N")[..8]).StartAsync(big);
        Assert.Equal(JobState.Failed, refused.State);
        Assert.Equal(0, refused.TasksTotal);
        Assert.Matches(@"^memory: the job needs an estimated [\d.]+ [GT]iB per task, over the memory budget of 2 GiB \(Fisher:Grains:MemoryBudget\); largest: layer '0' per-sample values", refused.Error);

        var small = await TestData.RunToEnd(grains, "memory-ok-" + Guid.NewGuid().ToString("N")[..8], TestData.Spec(inputs: 200, shards: 2, grouping: "layer", quantities: "exact", draws: 1), TestTimeouts.Job);
        Assert.True(small.State == JobState.Completed, small.Error);
    }
}
