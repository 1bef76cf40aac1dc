namespace Fisher.Contracts;

/// <summary>One unit of work: a contiguous row range of the data and one parameter group.</summary>
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
    [property: Id(8)] IReadOnlyList<string> Parameters);
