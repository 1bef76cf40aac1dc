using System.Text.Json;
using Fisher.Contracts;

namespace Fisher.Results;

/// <summary>
/// summary.json of a result folder: the job, its counts and versions, and the per-group table. The one record used to
/// write and to read the file (<see cref="ResultJson"/>); files of earlier versions load, unknown fields are ignored.
/// </summary>
public sealed record SummaryFile
{
    public const string FileName = "summary.json";

    public string JobId { get; set; } = "";

    /// <summary>The job's final state (Completed).</summary>
    public string State { get; set; } = "";

    public JobSpec? Spec { get; set; }

    /// <summary>The architecture file's content as the job read it.</summary>
    public JsonElement? Architecture { get; set; }

    /// <summary>Inputs merged (fewer than planned when a target relative error stopped the job early).</summary>
    public long? Inputs { get; set; }

    public long? InputsPlanned { get; set; }

    public int? DrawsPerInput { get; set; }

    public ulong? Seed { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public double? Seconds { get; set; }

    public int Tasks { get; set; }

    public int Redispatches { get; set; }

    public SummaryVersions? Versions { get; set; }

    /// <summary>What the groups' relative standard errors are.</summary>
    public string? RelativeStandardError { get; set; } = ResultMeaning.RelativeStandardError;

    /// <summary>What the groups' inputs needed are.</summary>
    public string? InputsNeeded { get; set; } = ResultMeaning.InputsNeeded;

    /// <summary>What the groups' decisions are.</summary>
    public string? Decision { get; set; } = ResultMeaning.Decision;

    public IReadOnlyList<SummaryGroup> Groups { get; set; } = [];

    /// <summary>Label draws per input K (1 when not stated).</summary>
    public int Draws => Math.Max(1, DrawsPerInput ?? Spec?.DrawsPerInput ?? 1);
}
