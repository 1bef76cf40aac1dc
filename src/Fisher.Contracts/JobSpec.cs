using System.Text.Json.Serialization;
using Fisher.Estimators;

namespace Fisher.Contracts;

/// <summary>
/// Everything that defines a job, typed: text from a command line or a file is parsed into it once, at the edge,
/// and checked by <c>JobSpecValidator</c> (Fisher.Grains). Paths must be readable by every silo (a shared volume on a
/// cluster). Two jobs with the same spec give the same estimates whatever the number of shards, groups, silos or
/// retries.
/// </summary>
/// <remarks>
/// Wire compatibility: before specs were typed, likelihood, quantities, grouping and precision travelled as strings
/// under ids 4, 6, 11 and 14. The typed values use new ids, and their canonical text is still written under the old
/// ids, so a silo of either version reads the same spec; a spec persisted by the old code loads, its strings read
/// through the properties (the only place they are parsed). Equality is that of the public values, however a spec
/// was made or loaded.
/// </remarks>
[GenerateSerializer, Immutable, Alias("fisher.JobSpec")]
public sealed record JobSpec
{
    /// <summary>Weights: a PyTorch <c>state_dict</c> saved by <c>torch.save</c>, a safetensors file, or an ONNX model (<c>.onnx</c>).</summary>
    [Id(0)] public required string ModelPath { get; init; }

    /// <summary>The architecture file (JSON: widths or a layer graph, likelihood, input scaling; for an ONNX model only likelihood, variance and input scaling, or empty: none).</summary>
    [Id(1)] public required string ArchitecturePath { get; init; }

    /// <summary>Inputs: IDX (plain or .gz) or NPY.</summary>
    [Id(2)] public required string InputsPath { get; init; }

    /// <summary>Observed labels (needed for the empirical Fisher); IDX or NPY.</summary>
    [Id(3)] public string? LabelsPath { get; init; }

    /// <summary>Overrides the architecture file's likelihood; null: the file's.</summary>
    [JsonConverter(typeof(SpecJsonConverter))]
    public LikelihoodFamily? Likelihood
    {
        get => _likelihood ?? (_legacyLikelihood is { } text ? SpecNames.Likelihoods.Parse(text) : null);
        init => (_likelihood, _legacyLikelihood) = (value, value is { } family ? SpecNames.Likelihoods.Key(family) : null);
    }

    /// <summary>Overrides the Gaussian σ² of the architecture file.</summary>
    [Id(5)] public double? Variance { get; init; }

    /// <summary>The quantities to compute (default: <see cref="DefaultQuantities"/>).</summary>
    [JsonConverter(typeof(SpecJsonConverter))]
    public FisherQuantity Quantities
    {
        get => _quantities ?? (_legacyQuantities is { } text ? FisherQuantityNames.Parse(text) : DefaultQuantities);
        init => (_quantities, _legacyQuantities) = (value, value.ToKeyList());
    }

    /// <summary>Label draws per input for Î1 and Î2.</summary>
    [Id(7)] public int DrawsPerInput { get; init; } = 1;

    /// <summary>First input row used.</summary>
    [Id(8)] public long FirstInput { get; init; }

    /// <summary>Number of inputs (0: every row from <see cref="FirstInput"/> on).</summary>
    [Id(9)] public long Inputs { get; init; }

    /// <summary>Data shards (each a contiguous row range).</summary>
    [Id(10)] public int Shards { get; init; } = 1;

    /// <summary>How parameters are grouped for reporting and for tasks (default: one group per layer).</summary>
    [JsonConverter(typeof(SpecJsonConverter))]
    public Grouping Grouping
    {
        get => _grouping ?? (_legacyGrouping is { } text ? SpecNames.Groupings.Parse(text) : Grouping.PerLayer);
        init => (_grouping, _legacyGrouping) = (value, SpecNames.Groupings.Key(value));
    }

    /// <summary>Inputs per batch inside a worker.</summary>
    [Id(12)] public int BatchSize { get; init; } = 256;

    /// <summary>Seed of the label draws.</summary>
    [Id(13)] public ulong Seed { get; init; }

    /// <summary>Compute dtype of the network (default float32; moments are always float64).</summary>
    [JsonConverter(typeof(SpecJsonConverter))]
    public ComputeDType Precision
    {
        get => _precision ?? (_legacyPrecision is { } text ? SpecNames.DTypes.Parse(text) : ComputeDType.Float32);
        init => (_precision, _legacyPrecision) = (value, SpecNames.DTypes.Key(value));
    }

    /// <summary>
    /// Tasks computing at once (0: two per active silo); a task that only ships its partial does not count.
    /// </summary>
    [Id(15)] public int MaxConcurrentTasks { get; init; }

    /// <summary>
    /// Stop as soon as every group's requested estimates have relative error below this with probability 1 − δ
    /// (Chebyshev, estimators.md §7.1), checked between rounds of shards. Null: process every input.
    /// </summary>
    [Id(16)] public double? TargetRelativeError { get; init; }

    /// <summary>δ of the target and of the sample-size rule: the allowed probability of missing ε.</summary>
    [Id(17)] public double Delta { get; init; } = DefaultDelta;

    /// <summary>What a job computes unless told otherwise (the empirical Fisher is added when labels are given).</summary>
    public const FisherQuantity DefaultQuantities = FisherQuantity.SquaredScore | FisherQuantity.NegativeHessian | FisherQuantity.Exact
        | FisherQuantity.SquaredScoreVariance | FisherQuantity.NegativeHessianVariance | FisherQuantity.Bounds | FisherQuantity.NegativeHessianNegative;

    /// <summary>The default <see cref="Delta"/>.</summary>
    public const double DefaultDelta = 0.05;

    /// <summary>ε of the reported sample sizes when the job has no <see cref="TargetRelativeError"/>.</summary>
    public const double DefaultEpsilon = 0.1;

    /// <summary>ε of the reported sample sizes: the target relative error, else <see cref="DefaultEpsilon"/>.</summary>
    public double SampleSizeEpsilon() => TargetRelativeError ?? DefaultEpsilon;

    [Id(18)] private LikelihoodFamily? _likelihood;
    [Id(19)] private FisherQuantity? _quantities;
    [Id(20)] private Grouping? _grouping;
    [Id(21)] private ComputeDType? _precision;

    // Written by the string-typed spec; read only through the properties above.
    [Id(4)] private string? _legacyLikelihood;
    [Id(6)] private string? _legacyQuantities;
    [Id(11)] private string? _legacyGrouping;
    [Id(14)] private string? _legacyPrecision;

    /// <summary>Equal when every public value is (a spec loaded from the old wire form equals the same spec made now).</summary>
    public bool Equals(JobSpec? other) =>
        other is not null && (ReferenceEquals(this, other) || (ModelPath == other.ModelPath && ArchitecturePath == other.ArchitecturePath
            && InputsPath == other.InputsPath && LabelsPath == other.LabelsPath && Likelihood == other.Likelihood && Variance == other.Variance
            && Quantities == other.Quantities && DrawsPerInput == other.DrawsPerInput && FirstInput == other.FirstInput && Inputs == other.Inputs
            && Shards == other.Shards && Grouping == other.Grouping && BatchSize == other.BatchSize && Seed == other.Seed && Precision == other.Precision
            && MaxConcurrentTasks == other.MaxConcurrentTasks && TargetRelativeError == other.TargetRelativeError && Delta == other.Delta));

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(ModelPath);
        hash.Add(ArchitecturePath);
        hash.Add(InputsPath);
        hash.Add(LabelsPath);
        hash.Add(Likelihood);
        hash.Add(Variance);
        hash.Add(Quantities);
        hash.Add(DrawsPerInput);
        hash.Add(FirstInput);
        hash.Add(Inputs);
        hash.Add(Shards);
        hash.Add(Grouping);
        hash.Add(BatchSize);
        hash.Add(Seed);
        hash.Add(Precision);
        hash.Add(MaxConcurrentTasks);
        hash.Add(TargetRelativeError);
        hash.Add(Delta);
        return hash.ToHashCode();
    }
}
