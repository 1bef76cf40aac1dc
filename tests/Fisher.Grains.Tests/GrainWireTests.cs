using System.Reflection;
using Fisher.Contracts;

namespace Fisher.Grains.Tests;

/// <summary>
/// The wire names of the grain methods: unique, never a retired one (a caller of a method whose parameters changed
/// must find no method rather than one that reads its arguments as others), and every method that reads or changes a
/// job's state takes its access token or a lease key.
/// </summary>
public sealed class GrainWireTests
{
    /// <summary>Aliases of methods whose parameters changed (the token and lease-key methods replaced them).</summary>
    private static readonly string[] Retired = ["Start", "GetStatus", "Cancel", "Heartbeat", "TaskCompleted", "TaskFailed", "AuthorizePartial", "GetInfo", "Read", "GetPrecision"];

    /// <summary>Methods that need no secret: submitting creates the job; a chunk carries its lease key; whether a task id is merged is no result.</summary>
    private static readonly string[] Open = [nameof(IFisherJobGrain.SubmitAsync), nameof(IMomentsAggregatorGrain.AddChunkAsync), nameof(IMomentsAggregatorGrain.HasMergedAsync)];

    public static TheoryData<Type> Interfaces => new(typeof(IFisherJobGrain), typeof(IMomentsAggregatorGrain));

    [Theory]
    [MemberData(nameof(Interfaces))]
    public void Methods_have_unique_new_aliases_and_take_a_secret(Type grain)
    {
        var methods = grain.GetMethods();
        var aliases = methods.Select(m => m.GetCustomAttribute<AliasAttribute>()?.Alias ?? $"(none on {m.Name})").ToArray();
        Assert.Equal(aliases.Length, aliases.Distinct(StringComparer.Ordinal).Count());
        Assert.Empty(aliases.Intersect(Retired));
        foreach (var method in methods.Where(m => !Open.Contains(m.Name)))
        {
            Assert.True(method.GetParameters().Any(p => p.ParameterType == typeof(string) && p.Name is "token" or "leaseKey"),
                $"{grain.Name}.{method.Name} takes neither the job's token nor a lease key");
        }
    }

    [Fact]
    public void Secrets_stay_out_of_printed_messages()
    {
        var spec = TestData.Spec(inputs: 10, shards: 1, grouping: "all");
        var assignment = new TaskAssignment("job", "s0g0", 1, spec, 0, 10, 0, "all", ["0.weight"], "lease-secret");
        var chunk = new PartialChunk("s0g0", 1, 0, 1, 10, [], "lease-secret");
        var ticket = new JobTicket(new JobStatus { JobId = "job" }, "token-secret");
        Assert.DoesNotContain("lease-secret", assignment.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("lease-secret", chunk.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("token-secret", ticket.ToString(), StringComparison.Ordinal);
        Assert.Contains("s0g0", assignment.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Generated_job_ids_are_names_with_at_least_128_random_bits()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => JobIds.New()).ToArray();
        Assert.All(ids, id => Assert.Null(JobIds.Problem(id)));
        Assert.Equal(ids.Length, ids.Distinct(StringComparer.Ordinal).Count());
        // The random part: 26 base32 characters (130 bits) after the time stamp.
        Assert.All(ids, id => Assert.Matches(@"^\d{8}-\d{6}-[a-z2-7]{26}$", id));
        Assert.True(JobIds.RandomBits >= 128);
    }
}
