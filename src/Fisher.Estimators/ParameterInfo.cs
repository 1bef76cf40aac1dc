namespace Fisher.Estimators;

/// <summary>One parameter tensor of the network: its PyTorch name, the index of its Linear layer, kind and shape.</summary>
public sealed record ParameterInfo(string Name, int LayerIndex, ParameterKind Kind, long[] Shape)
{
    /// <summary>Number of scalar parameters in the tensor.</summary>
    public int Size => (int)Shape.Aggregate(1L, (a, b) => a * b);
}
