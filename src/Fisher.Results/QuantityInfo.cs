using Fisher.Estimators;

namespace Fisher.Results;

/// <summary>
/// One quantity of a result: the stream it is read from, its key in the result files, how it is shown and what is
/// derived from it. Every list of quantities in the project is <see cref="QuantityCatalog.All"/> or a filter of it.
/// </summary>
public sealed record QuantityInfo
{
    /// <summary>The merged stream this quantity is read from (streams are named <c>&lt;parameter&gt;.&lt;stream key&gt;</c>).</summary>
    public required FisherQuantity Stream { get; init; }

    /// <summary>The key in summary.json, sweep.json and the tables (the stream's key unless stated otherwise).</summary>
    public string Key { get; init; } = "";

    /// <summary>The suffix of its tensors in fisher.safetensors (<c>&lt;parameter&gt;.&lt;tensor key&gt;</c>).</summary>
    public string TensorKey { get; init; } = "";

    /// <summary>Short symbol for table headers ("Î1").</summary>
    public required string Symbol { get; init; }

    /// <summary>Legend text in plots ("Î1 (squared score, sampled labels)").</summary>
    public required string Label { get; init; }

    public required QuantityRole Role { get; init; }

    /// <summary>Estimates: the stream of per-input means of the K draws (streamed when K ≥ 2), else <see cref="FisherQuantity.None"/>.</summary>
    public FisherQuantity InputMeanStream { get; init; }

    /// <summary>
    /// Estimates: the streams of the third and fourth powers of its per-input values (the term with K = 1, the mean of
    /// the K draws otherwise), whose shape (skewness, kurtosis over inputs) the interval for the input distribution uses
    /// (§3.5); else <see cref="FisherQuantity.None"/>.
    /// </summary>
    public FisherQuantity ShapeStreams { get; init; }

    /// <summary>Estimates: the closed-form conditional variance of one term (Î1: V1), else <see cref="FisherQuantity.None"/>.</summary>
    public FisherQuantity ConditionalVarianceStream { get; init; }

    /// <summary>Bounds: the conditional variance they bound; <see cref="IsUpperBound"/> says from which side.</summary>
    public FisherQuantity BoundedStream { get; init; }

    public bool IsUpperBound { get; init; }

    /// <summary>Colour index of its series in plots (0, 1, ... of the report's palette).</summary>
    public int Colour { get; init; }

    public bool IsEstimate => Role == QuantityRole.Estimate;

    /// <summary>Whether the quantity is written to the result files (input means and power sums only serve other results).</summary>
    public bool IsWritten => Role is not (QuantityRole.InputMean or QuantityRole.PowerSum);

    /// <summary>The tensor suffix of the variance of the estimate as an estimate of the input distribution's Fisher (<see cref="EstimateVariance.OfDistribution"/>).</summary>
    public string VarianceKey => TensorKey + "_var";

    /// <summary>The tensor suffix of the variance of the estimate as an estimate of the Fisher of the job's N inputs (<see cref="EstimateVariance.GivenInputs"/>; Î1 and Î2 only).</summary>
    public string GivenInputsVarianceKey => TensorKey + "_var_given_inputs";

    /// <summary>The tensor suffixes of the interval's ends for the input distribution's Fisher at level 1 − δ (§3.5).</summary>
    public string LowerKey => TensorKey + "_lower";

    /// <summary>See <see cref="LowerKey"/>.</summary>
    public string UpperKey => TensorKey + "_upper";

    /// <summary>The tensor suffix of the label part E_x V of one term's variance that the uncertainty uses: closed form when computed, else from K ≥ 2 draws (§3.2, §3.4).</summary>
    public string LabelPartKey => TensorKey + "_var_labels";

    /// <summary>The tensor suffix of the label part estimated from K ≥ 2 draws when the closed form is used instead: the check beside it.</summary>
    public string LabelPartFromDrawsKey => TensorKey + "_var_labels_draws";

    /// <summary>The name of the stream of <paramref name="parameter"/> for this quantity.</summary>
    public string StreamName(string parameter) => Stream.StreamName(parameter);

    /// <summary>The name of the tensor of <paramref name="parameter"/> with <paramref name="suffix"/> (default: this quantity's).</summary>
    public string TensorName(string parameter, string? suffix = null) => $"{parameter}.{suffix ?? TensorKey}";
}
