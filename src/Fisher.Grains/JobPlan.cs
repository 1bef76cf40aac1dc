using Fisher.Estimators;

namespace Fisher.Grains;

/// <summary>What a spec resolves to after the files were read and checked.</summary>
internal sealed record JobPlan(long FirstRow, long Inputs, IReadOnlyList<ParameterGroup> Groups, IReadOnlyList<PlannedTask> Tasks, FisherQuantity Quantities);
