namespace Fisher.Calibration;

/// <summary>Which Fisher an interval is for (docs/estimators.md §3.4).</summary>
public enum Target
{
    /// <summary>The Fisher of the job's N inputs: only the label draws are random.</summary>
    GivenInputs,

    /// <summary>The Fisher of the input distribution (the pool): the inputs are random too.</summary>
    Distribution,
}

/// <summary>
/// Counts of covered entries per repetition for one (estimate, target, level): coverage is measured over parameters and
/// repetitions, and its standard error from the spread of the repetitions' own coverages (entries of one job share its
/// draws and inputs, so they are not independent).
/// </summary>
public sealed class Coverage
{
    private readonly List<(long Covered, long Entries)> _repetitions = [];

    /// <summary>Adds one job's counts.</summary>
    public void Add(long covered, long entries)
    {
        if (entries > 0)
            _repetitions.Add((covered, entries));
    }

    /// <summary>Merges another tally (another case) into this one.</summary>
    public void Add(Coverage other)
    {
        ArgumentNullException.ThrowIfNull(other);
        _repetitions.AddRange(other._repetitions);
    }

    public int Repetitions => _repetitions.Count;

    public long Entries => _repetitions.Sum(r => r.Entries);

    /// <summary>Covered share over all entries of all repetitions.</summary>
    public double Share => Entries == 0 ? double.NaN : (double)_repetitions.Sum(r => r.Covered) / Entries;

    /// <summary>Standard error of <see cref="Share"/>: the standard deviation of the per-repetition shares / √repetitions.</summary>
    public double StandardError
    {
        get
        {
            if (_repetitions.Count < 2)
                return double.NaN;
            var shares = _repetitions.Select(r => (double)r.Covered / r.Entries).ToArray();
            double mean = shares.Average();
            return Math.Sqrt(shares.Sum(s => (s - mean) * (s - mean)) / (shares.Length - 1) / shares.Length);
        }
    }
}
