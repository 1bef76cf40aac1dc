using System.Globalization;
using Microsoft.Extensions.Options;

namespace Fisher.Grains;

/// <summary>
/// Checks <see cref="FisherOptions"/> when the silo starts (registered with <c>ValidateOnStart</c> by
/// <see cref="FisherHosting.AddFisherGrains"/>) and reports every bad setting at once, each by its configuration key:
/// a zero <see cref="FisherOptions.TasksPerSilo"/>, say, would otherwise leave every job Running forever.
/// </summary>
internal sealed class FisherOptionsValidator : IValidateOptions<FisherOptions>
{
    /// <summary>
    /// Largest <see cref="FisherOptions.ChunkElements"/>: 16 MiB of doubles. The cluster's message bound
    /// (<see cref="FisherHosting.MaxMessageBodyBytes"/>) is derived from it, so the largest chunk always fits.
    /// </summary>
    public const int MaxChunkElements = 2 * 1024 * 1024;

    /// <summary>Smallest <see cref="FisherOptions.MemoryBudget"/>: 1 MiB (less admits no job at all).</summary>
    public const long MinMemoryBudget = 1 << 20;

    public ValidateOptionsResult Validate(string? name, FisherOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        Positive(failures, nameof(FisherOptions.LeaseDuration), options.LeaseDuration);
        Positive(failures, nameof(FisherOptions.StartTimeout), options.StartTimeout);
        Positive(failures, nameof(FisherOptions.DispatchPeriod), options.DispatchPeriod);
        Positive(failures, nameof(FisherOptions.WorkerSlice), options.WorkerSlice);
        Positive(failures, nameof(FisherOptions.StateExpiry), options.StateExpiry);
        Positive(failures, nameof(FisherOptions.HandBackTimeout), options.HandBackTimeout);
        Positive(failures, nameof(FisherOptions.SiloCountPeriod), options.SiloCountPeriod);
        if (options.WorkerSlice > TimeSpan.Zero && options.LeaseDuration > TimeSpan.Zero && options.LeaseDuration <= options.WorkerSlice)
        {
            // A worker reports once per slice: a lease no longer than a slice expires before every report.
            failures.Add($"{Key(nameof(FisherOptions.LeaseDuration))} must be longer than {Key(nameof(FisherOptions.WorkerSlice))} " +
                $"({options.WorkerSlice}), got {options.LeaseDuration}");
        }
        AtLeastOne(failures, nameof(FisherOptions.ChunkElements), options.ChunkElements);
        if (options.ChunkElements > MaxChunkElements)
            failures.Add($"{Key(nameof(FisherOptions.ChunkElements))} must be at most {MaxChunkElements.ToString(CultureInfo.InvariantCulture)}, got {options.ChunkElements.ToString(CultureInfo.InvariantCulture)}");
        AtLeastOne(failures, nameof(FisherOptions.ComputeThreadCount), options.ComputeThreadCount);
        AtLeastOne(failures, nameof(FisherOptions.TorchThreads), options.TorchThreads);
        AtLeastOne(failures, nameof(FisherOptions.TasksPerSilo), options.TasksPerSilo);
        AtLeastOne(failures, nameof(FisherOptions.MaxTaskAttempts), options.MaxTaskAttempts);
        if (options.TestFaults.Any && !TestFaults.Allowed)
            failures.Add($"{Key(nameof(FisherOptions.TestFaults))} is for tests only: set {TestFaults.EnvironmentVariable}=1 to run a silo with a test fault");
        foreach (var root in options.DataRoots ?? [])
        {
            if (Fisher.Data.DataRoots.Problem(root) is { } problem)
                failures.Add($"{Key(nameof(FisherOptions.DataRoots))}: {problem}");
        }
        if (options.MemoryBudget < MinMemoryBudget)
            failures.Add($"{Key(nameof(FisherOptions.MemoryBudget))} must be at least {MinMemoryBudget.ToString(CultureInfo.InvariantCulture)} bytes (1 MiB), got {options.MemoryBudget.ToString(CultureInfo.InvariantCulture)}");
        if (!(options.CostBudget > 0) || !double.IsFinite(options.CostBudget))
            failures.Add($"{Key(nameof(FisherOptions.CostBudget))} must be a positive number of multiply-adds per input, got {options.CostBudget.ToString(CultureInfo.InvariantCulture)}");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static string Key(string setting) => $"{FisherOptions.SectionName}:{setting}";

    private static void Positive(List<string> failures, string setting, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
            failures.Add($"{Key(setting)} must be positive, got {value}");
    }

    private static void AtLeastOne(List<string> failures, string setting, int value)
    {
        if (value < 1)
            failures.Add($"{Key(setting)} must be at least 1, got {value.ToString(CultureInfo.InvariantCulture)}");
    }
}
