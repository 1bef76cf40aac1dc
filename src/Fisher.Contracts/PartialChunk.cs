using System.Text;

namespace Fisher.Contracts;

/// <summary>
/// One chunk of a task's partial moments; a partial is merged once all its chunks arrived. Every chunk carries the
/// lease key of its (task, attempt) (<see cref="TaskAssignment.LeaseKey"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("fisher.PartialChunk")]
public sealed record PartialChunk(
    [property: Id(0)] string TaskId,
    [property: Id(1)] int Attempt,
    [property: Id(2)] int Index,
    [property: Id(3)] int Count,
    [property: Id(4)] long Inputs,
    [property: Id(5)] IReadOnlyList<MomentSlice> Slices,
    [property: Id(6)] string LeaseKey)
{
    /// <summary>Keeps the lease key and the numbers out of logs that print the chunk.</summary>
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append(System.Globalization.CultureInfo.InvariantCulture,
            $"TaskId = {TaskId}, Attempt = {Attempt}, Index = {Index}, Count = {Count}, Inputs = {Inputs}, Slices = {Slices.Count}");
        return true;
    }
}
