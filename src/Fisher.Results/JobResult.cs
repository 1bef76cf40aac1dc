using Fisher.Contracts;
using Fisher.Data;

namespace Fisher.Results;

/// <summary>
/// A finished job's result, assembled once (<see cref="JobResultAssembler"/>) or read back from a result folder
/// (<see cref="ResultFolder.Read"/>): summary.json's record and the tensors of fisher.safetensors. The CLI table, the
/// files, the report and the sweep all read this object.
/// </summary>
public sealed class JobResult
{
    private readonly Dictionary<string, NamedArray> _byName;

    public JobResult(SummaryFile summary, IReadOnlyList<NamedArray> tensors)
    {
        ArgumentNullException.ThrowIfNull(summary);
        ArgumentNullException.ThrowIfNull(tensors);
        Summary = summary;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public SummaryFile Summary { get; }

    /// <summary>Per parameter and quantity, <c>&lt;parameter&gt;.&lt;tensor key&gt;</c>, values as float32 (the file's precision).</summary>
    public IReadOnlyList<NamedArray> Tensors { get; }

    public string JobId => Summary.JobId;

    /// <summary>Label draws per input K.</summary>
    public int Draws => Summary.Draws;

    /// <summary>ε of the sample sizes: the job's target relative error, else the default.</summary>
    public double Epsilon => Summary.Spec?.SampleSizeEpsilon() ?? JobSpec.DefaultEpsilon;

    /// <summary>δ of the sample sizes.</summary>
    public double Delta => Summary.Spec?.Delta ?? JobSpec.DefaultDelta;

    /// <summary>The tensor <c>&lt;parameter&gt;.&lt;suffix&gt;</c>, or null.</summary>
    public NamedArray? Tensor(string parameter, string suffix) => _byName.GetValueOrDefault($"{parameter}.{suffix}");

    /// <summary>The estimates present in any group, in catalog order.</summary>
    public IReadOnlyList<QuantityInfo> PresentEstimates() =>
        QuantityCatalog.Estimates.Where(q => Summary.Groups.Any(g => g.Quantity(q) is not null)).ToArray();
}
