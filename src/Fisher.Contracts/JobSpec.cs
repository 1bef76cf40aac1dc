namespace Fisher.Contracts;

/// <summary>
/// Everything that defines a job. Paths must be readable by every silo (a shared volume on a cluster).
/// Two jobs with the same spec give the same estimates whatever the number of shards, groups, silos or retries.
/// </summary>
[GenerateSerializer, Immutable, Alias("fisher.JobSpec")]
public sealed record JobSpec
{
    /// <summary>Weights: a PyTorch <c>state_dict</c> saved by <c>torch.save</c>, or a safetensors file.</summary>
    [Id(0)] public required string ModelPath { get; init; }

    /// <summary>The architecture file (JSON: widths, activations, likelihood, input scaling).</summary>
    [Id(1)] public required string ArchitecturePath { get; init; }

    /// <summary>Inputs: IDX (plain or .gz) or NPY.</summary>
    [Id(2)] public required string InputsPath { get; init; }

    /// <summary>Observed labels (needed for the empirical Fisher); IDX or NPY.</summary>
    [Id(3)] public string? LabelsPath { get; init; }

    /// <summary>Overrides the architecture file's likelihood (gaussian, categorical, bernoulli, poisson).</summary>
    [Id(4)] public string? Likelihood { get; init; }

    /// <summary>Overrides the Gaussian σ² of the architecture file.</summary>
    [Id(5)] public double? Variance { get; init; }

    /// <summary>Comma-separated quantities: i1, i2, exact, empirical, v1, v2 or all.</summary>
    [Id(6)] public string Quantities { get; init; } = "i1,i2,exact,empirical";

    /// <summary>Label draws per input for Î1 and Î2.</summary>
    [Id(7)] public int DrawsPerInput { get; init; } = 1;

    /// <summary>First input row used.</summary>
    [Id(8)] public long FirstInput { get; init; }

    /// <summary>Number of inputs (0: every row from <see cref="FirstInput"/> on).</summary>
    [Id(9)] public long Inputs { get; init; }

    /// <summary>Data shards (each a contiguous row range).</summary>
    [Id(10)] public int Shards { get; init; } = 1;

    /// <summary>Parameter grouping: layer (default), tensor or all.</summary>
    [Id(11)] public string Grouping { get; init; } = "layer";

    /// <summary>Inputs per batch inside a worker.</summary>
    [Id(12)] public int BatchSize { get; init; } = 256;

    /// <summary>Seed of the label draws.</summary>
    [Id(13)] public ulong Seed { get; init; }

    /// <summary>Compute dtype of the network: float32 (default) or float64.</summary>
    [Id(14)] public string Precision { get; init; } = "float32";

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

    /// <summary>The default <see cref="Delta"/>.</summary>
    public const double DefaultDelta = 0.05;

    /// <summary>ε of the reported sample sizes when the job has no <see cref="TargetRelativeError"/>.</summary>
    public const double DefaultEpsilon = 0.1;

    /// <summary>ε of the reported sample sizes: the target relative error, else <see cref="DefaultEpsilon"/>.</summary>
    public double SampleSizeEpsilon() => TargetRelativeError ?? DefaultEpsilon;
}
