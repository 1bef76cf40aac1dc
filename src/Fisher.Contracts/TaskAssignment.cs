using System.Text;

namespace Fisher.Contracts;

/// <summary>
/// One unit of work: a contiguous row range of the data and one parameter group, dispatched as one attempt under a
/// lease. <see cref="LeaseKey"/> is the attempt's secret: the coordinator accepts the worker's heartbeats, completion
/// and failure, and the aggregator its partial, only with it.
/// </summary>
[GenerateSerializer, Immutable, Alias("fisher.TaskAssignment")]
public sealed record TaskAssignment(
    [property: Id(0)] string JobId,
    [property: Id(1)] string TaskId,
    [property: Id(2)] int Attempt,
    [property: Id(3)] JobSpec Spec,
    [property: Id(4)] long FirstRow,
    [property: Id(5)] long Rows,
    [property: Id(6)] int GroupIndex,
    [property: Id(7)] string GroupName,
    [property: Id(8)] IReadOnlyList<string> Parameters,
    [property: Id(9)] string LeaseKey)
{
    /// <summary>Keeps the lease key out of logs and traces that print the assignment.</summary>
    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append(System.Globalization.CultureInfo.InvariantCulture,
            $"JobId = {JobId}, TaskId = {TaskId}, Attempt = {Attempt}, FirstRow = {FirstRow}, Rows = {Rows}, GroupName = {GroupName}");
        return true;
    }
}
