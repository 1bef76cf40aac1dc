using TorchSharp;

namespace Fisher.Estimators;

/// <summary>Names of the enums a job spec holds, and their torch dtypes.</summary>
public static class SpecNames
{
    public static ValueNames<LikelihoodFamily> Likelihoods { get; } = new("likelihood",
        (LikelihoodFamily.Gaussian, ["gaussian", "normal"]),
        (LikelihoodFamily.Categorical, ["categorical", "softmax"]),
        (LikelihoodFamily.Bernoulli, ["bernoulli", "binary"]),
        (LikelihoodFamily.Poisson, ["poisson"]));

    public static ValueNames<ComputeDType> DTypes { get; } = new("precision",
        (ComputeDType.Float32, ["float32", "f32", "single"]),
        (ComputeDType.Float64, ["float64", "f64", "double"]));

    public static ValueNames<Grouping> Groupings { get; } = new("grouping",
        (Grouping.PerLayer, ["layer", "per-layer"]),
        (Grouping.PerTensor, ["tensor", "per-tensor"]),
        (Grouping.All, ["all"]));

    /// <summary>The torch dtype of <paramref name="dtype"/>.</summary>
    public static torch.ScalarType ToScalarType(this ComputeDType dtype) =>
        dtype == ComputeDType.Float64 ? torch.ScalarType.Float64 : torch.ScalarType.Float32;
}
