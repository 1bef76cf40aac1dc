namespace Fisher.Estimators;

/// <summary>The output distributions the estimator supports (docs/estimators.md §5).</summary>
public enum LikelihoodFamily
{
    /// <summary>Gaussian with a fixed variance σ² per output.</summary>
    Gaussian,

    /// <summary>Softmax over the outputs (one class label).</summary>
    Categorical,

    /// <summary>Independent Bernoulli outputs (logits).</summary>
    Bernoulli,

    /// <summary>Independent Poisson outputs (log link).</summary>
    Poisson,
}
