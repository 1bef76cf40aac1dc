using Fisher.Contracts;
using Fisher.Estimators;

namespace Fisher.Grains.Tests;

/// <summary>The spec validator reports every problem at once, each naming its spec field in the domain's words.</summary>
public sealed class JobSpecValidatorTests
{
    private static readonly JobSpec Good = TestData.Spec(inputs: 100, shards: 2, grouping: "layer", quantities: "i1,i2", draws: 1);

    [Fact]
    public void A_good_spec_has_no_problems() => Assert.Empty(JobSpecValidator.Problems(Good));

    [Fact]
    public void Every_problem_is_reported_with_its_field()
    {
        var spec = Good with
        {
            DrawsPerInput = 0, BatchSize = -1, Shards = 0, Delta = 1.5, Variance = -2, FirstInput = -1, MaxConcurrentTasks = -3,
            Quantities = FisherQuantity.Empirical, LabelsPath = null, TargetRelativeError = 0.1,
        };

        var problems = JobSpecValidator.Problems(spec);

        Assert.Equal(
            [nameof(JobSpec.Quantities), nameof(JobSpec.Variance), nameof(JobSpec.DrawsPerInput), nameof(JobSpec.FirstInput), nameof(JobSpec.Shards),
             nameof(JobSpec.BatchSize), nameof(JobSpec.MaxConcurrentTasks), nameof(JobSpec.Delta)],
            problems.Select(p => p.Field).ToArray());
        Assert.Contains(problems, p => p.Message.Contains("needs observed labels", StringComparison.Ordinal));
        Assert.All(problems, p => Assert.DoesNotContain("--", p.Message, StringComparison.Ordinal));
        Assert.Equal("draws per input: must be at least 1, got 0", problems.Single(p => p.Field == nameof(JobSpec.DrawsPerInput)).ToString());

        var e = Assert.Throws<JobSpecException>(() => JobSpecValidator.ThrowIfInvalid(spec));
        Assert.Equal(problems, e.Problems);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Counts_over_their_limits_are_refused_naming_the_limit()
    {
        var problems = JobSpecValidator.Problems(Good with
        {
            BatchSize = JobSpecValidator.MaxBatchSize + 1, DrawsPerInput = int.MaxValue, Inputs = 0, Shards = JobSpecValidator.MaxShards + 1, MaxConcurrentTasks = int.MaxValue,
        });
        Assert.Equal([nameof(JobSpec.DrawsPerInput), nameof(JobSpec.Shards), nameof(JobSpec.BatchSize), nameof(JobSpec.MaxConcurrentTasks)], problems.Select(p => p.Field).ToArray());
        Assert.Equal("batch size: must be at most 65536, got 65537", problems.Single(p => p.Field == nameof(JobSpec.BatchSize)).ToString());
        Assert.Empty(JobSpecValidator.Problems(Good with { BatchSize = JobSpecValidator.MaxBatchSize, DrawsPerInput = JobSpecValidator.MaxDrawsPerInput, Inputs = 0, Shards = JobSpecValidator.MaxShards }));
    }

    [Fact]
    public void A_target_needs_an_estimate_and_shards_need_inputs()
    {
        var problems = JobSpecValidator.Problems(Good with { Quantities = FisherQuantity.SquaredScoreVariance, TargetRelativeError = 0.1, Inputs = 3, Shards = 4 });

        Assert.Equal([nameof(JobSpec.Shards), nameof(JobSpec.TargetRelativeError)], problems.Select(p => p.Field).ToArray());
        Assert.Contains("i1, i2, exact, empirical", problems[1].Message, StringComparison.Ordinal);
    }
}
