namespace Fisher.Estimators.Graph;

/// <summary>
/// The one registration of every layer kind: how a <see cref="LayerSpec"/> of that kind becomes its rule, given the
/// indices and per-sample shapes of its inputs and the named tensors.
/// </summary>
internal static class LayerRules
{
    public delegate GraphNode Factory(LayerSpec spec, int[] inputs, long[][] inputShapes, TensorSource tensors);

    private static readonly Dictionary<LayerOp, Factory> Factories = new()
    {
        [LayerOp.Linear] = LinearNode.Create,
        [LayerOp.Conv1d] = ConvNode.Create,
        [LayerOp.Conv2d] = ConvNode.Create,
        [LayerOp.MaxPool2d] = MaxPoolNode.Create,
        [LayerOp.AvgPool2d] = AveragePoolNode.Create,
        [LayerOp.AdaptiveAvgPool2d] = AveragePoolNode.Create,
        [LayerOp.Flatten] = FlattenNode.Create,
        [LayerOp.BatchNorm] = BatchNormNode.Create,
        [LayerOp.Add] = AddNode.Create,
        [LayerOp.Identity] = IdentityNode.Create,
        [LayerOp.Activation] = ActivationNode.Create,
    };

    public static GraphNode Create(LayerSpec spec, int[] inputs, long[][] inputShapes, TensorSource tensors) =>
        Factories.TryGetValue(spec.Op, out var factory)
            ? factory(spec, inputs, inputShapes, tensors)
            : throw new UnsupportedLayerException(spec.Name, spec.Op.ToString());

    /// <summary>
    /// The roles of the tensors a layer reads (its parameters first, then buffers): what its rule takes from the
    /// weights with <see cref="TensorSource.Take"/>, which checks it against this list.
    /// </summary>
    public static IReadOnlyList<string> Roles(LayerSpec spec) => spec.Op switch
    {
        LayerOp.Linear or LayerOp.Conv1d or LayerOp.Conv2d => spec.Bias ? ["weight", "bias"] : ["weight"],
        LayerOp.BatchNorm => spec.Bias ? ["weight", "bias", "running_mean", "running_var"] : ["running_mean", "running_var"],
        _ => [],
    };
}
