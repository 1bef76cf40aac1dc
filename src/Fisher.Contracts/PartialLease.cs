namespace Fisher.Contracts;

/// <summary>
/// What the coordinator says of a partial an aggregator is about to take: the task exists in the job's plan under
/// an attempt it dispatched, and the partial must cover exactly these rows and only these parameters.
/// </summary>
/// <param name="TaskId">The planned task.</param>
/// <param name="Rows">The task's inputs: the partial's input count must equal it.</param>
/// <param name="Parameters">The group's parameter tensors: the only streams the partial may hold.</param>
/// <param name="Sizes">Elements of each parameter tensor: the length of each of its streams (empty: not known).</param>
/// <param name="Quantities">The stream keys the job computes (<c>i1</c>, <c>i1_input_mean</c>, ...): the only quantities allowed.</param>
[GenerateSerializer, Immutable, Alias("fisher.PartialLease")]
public sealed record PartialLease(
    [property: Id(0)] string TaskId,
    [property: Id(1)] long Rows,
    [property: Id(2)] IReadOnlyList<string> Parameters,
    [property: Id(3)] IReadOnlyList<int> Sizes,
    [property: Id(4)] IReadOnlyList<string> Quantities);
