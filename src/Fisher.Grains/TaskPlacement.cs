namespace Fisher.Grains;

/// <summary>
/// Where a coordinator starts each task attempt: on the active silo with the fewest of this job's computing tasks
/// (ties: the silo order), so every silo gets work up to its share instead of the placement director's luck (with
/// activation-count placement, 5 of 10 small jobs ran every task on one silo: its statistics lag behind a burst of
/// starts). The choice reaches Orleans as the placement hint of the worker's first call. In memory only: after the
/// coordinator reactivates, running tasks count nowhere until they end, which only skews the next few choices.
/// </summary>
internal sealed class TaskPlacement
{
    private readonly Dictionary<string, SiloAddress> _placed = [];
    private readonly Dictionary<SiloAddress, DateTimeOffset> _suspects = [];
    private readonly Dictionary<SiloAddress, DateTimeOffset> _stopping = [];
    private IReadOnlyList<SiloAddress> _silos = [];

    /// <summary>Active silos that are not stopping, at least 1 (the count a job's concurrency limit is made of).</summary>
    public int SiloCount => Math.Max(1, Placeable(DateTimeOffset.UtcNow).Count());

    /// <summary>
    /// False when every known silo is stopping: tasks then wait (Pending) for a silo that is not, instead of being
    /// handed to a stopping one that would hand them straight back. True when no silo is known (Orleans places).
    /// </summary>
    public bool CanPlace => _silos.Count == 0 || Placeable(DateTimeOffset.UtcNow).Any();

    private IEnumerable<SiloAddress> Placeable(DateTimeOffset now) =>
        _silos.Where(s => !(_stopping.TryGetValue(s, out var until) && until > now));

    /// <summary>Replaces the active silos (from the management grain), in a stable order.</summary>
    public void SetSilos(IEnumerable<SiloAddress> silos) =>
        _silos = silos.OrderBy(s => s.ToParsableString(), StringComparer.Ordinal).ToArray();

    /// <summary>The silo for <paramref name="taskId"/>'s next attempt (null: no silo known, let Orleans place it), counted as placed there.</summary>
    public SiloAddress? Choose(string taskId)
    {
        _placed.Remove(taskId);
        if (_silos.Count == 0)
            return null;
        var load = _placed.Values.CountBy(s => s).ToDictionary();
        var now = DateTimeOffset.UtcNow;
        var placeable = Placeable(now).ToArray();
        if (placeable.Length == 0)
            return null;
        var trusted = placeable.Where(s => !(_suspects.TryGetValue(s, out var until) && until > now)).ToArray();
        var chosen = (trusted.Length > 0 ? trusted : placeable).MinBy(s => load.GetValueOrDefault(s))!;
        _placed[taskId] = chosen;
        return chosen;
    }

    /// <summary>The task no longer computes (its rows are done, it was merged, or its lease expired).</summary>
    public void Release(string taskId) => _placed.Remove(taskId);

    /// <summary><paramref name="silo"/> is stopping: no task is placed there for <paramref name="avoidFor"/> (by then it has left the membership).</summary>
    public void Stopping(SiloAddress silo, TimeSpan avoidFor) => _stopping[silo] = DateTimeOffset.UtcNow + avoidFor;

    /// <summary>
    /// The task's worker stopped reporting: its silo may be down though the membership has not said so yet (that takes
    /// some seconds), so no task is placed there for <paramref name="avoidFor"/> while another silo is trusted.
    /// </summary>
    public void Lost(string taskId, TimeSpan avoidFor)
    {
        if (_placed.Remove(taskId, out var silo))
            _suspects[silo] = DateTimeOffset.UtcNow + avoidFor;
    }
}
