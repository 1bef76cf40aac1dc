namespace Fisher.Grains;

/// <summary>Where a task is.</summary>
internal enum TaskPhase
{
    Pending = 0,
    Running = 1,
    Done = 2,

    /// <summary>Not needed: the job reached its target relative error first.</summary>
    Skipped = 3,
}
