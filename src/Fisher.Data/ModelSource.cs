using Fisher.Estimators;

namespace Fisher.Data;

/// <summary>
/// How a job's model file and architecture JSON pair, decided here only. A state_dict or safetensors model takes an
/// architecture that describes its network (widths, or inputShape and layers). An ONNX model (<c>.onnx</c>) defines its
/// own layers: its architecture JSON is the head form (likelihood, variance, input scaling only), or, without one, the
/// job's likelihood override gives the likelihood and the inputs are not scaled. Nothing falls back to another model's
/// architecture.
/// </summary>
public static class ModelSource
{
    /// <summary>The extension of an ONNX model file.</summary>
    public const string OnnxExtension = ".onnx";

    /// <summary>True when <paramref name="modelPath"/> names an ONNX model (by its extension, <see cref="OnnxExtension"/>).</summary>
    public static bool IsOnnx(string modelPath) =>
        modelPath?.EndsWith(OnnxExtension, StringComparison.OrdinalIgnoreCase) ?? throw new ArgumentNullException(nameof(modelPath));

    /// <summary>
    /// The architecture a job uses with <paramref name="modelPath"/>: the file <paramref name="architecturePath"/>
    /// (null or empty: none) checked against the model's format, or for an ONNX model without one the head of
    /// <paramref name="likelihood"/>. Every refusal is one <see cref="DataFormatException"/> naming the file.
    /// </summary>
    public static ModelArchitecture ReadArchitecture(string modelPath, string? architecturePath, LikelihoodFamily? likelihood)
    {
        bool onnx = IsOnnx(modelPath);
        if (string.IsNullOrEmpty(architecturePath))
        {
            if (!onnx)
                throw new DataFormatException(modelPath, "no architecture JSON given; a state_dict or safetensors model needs one (widths, or inputShape and layers)");
            return likelihood is { } family ? ModelArchitecture.Head(family)
                : throw new DataFormatException(modelPath, "an ONNX model needs a likelihood: give an architecture JSON of likelihood, variance and input scaling, or a likelihood override");
        }
        var architecture = ModelArchitecture.Read(architecturePath);
        if (onnx && !architecture.IsHead)
            throw new DataFormatException(architecturePath, $"describes layers ({(architecture.IsGraph ? "inputShape, layers" : "widths")}), but the ONNX file {Path.GetFileName(modelPath)} defines the layers; keep only likelihood, variance and input");
        if (!onnx && architecture.IsHead)
            throw new DataFormatException(architecturePath, $"describes no layers (widths, or inputShape and layers); only an ONNX model ({OnnxExtension}) takes likelihood, variance and input alone, not {Path.GetFileName(modelPath)}");
        return architecture;
    }
}
