namespace Fisher.Grains;

/// <summary>A task of a plan: a row range and a parameter group.</summary>
internal sealed record PlannedTask(string TaskId, int Shard, long FirstRow, long Rows, int GroupIndex, string GroupName, IReadOnlyList<string> Parameters);
