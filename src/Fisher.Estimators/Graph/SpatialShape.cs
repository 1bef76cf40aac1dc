namespace Fisher.Estimators.Graph;

/// <summary>Spatial attributes of a layer, resolved to two dimensions (height first; 1-d layers use height 1).</summary>
internal readonly record struct Spatial(long[] Kernel, long[] Stride, long[] Padding, long[] Dilation)
{
    /// <summary>
    /// Reads one attribute: null gives <paramref name="fallback"/>; a list must hold one value per spatial dimension
    /// (<paramref name="dims"/>), each at least <paramref name="minimum"/>. 1-d values get height 1 (padding 0).
    /// </summary>
    public static long[] Read(LayerSpec spec, string field, IReadOnlyList<int>? values, long[] fallback, int dims, int minimum)
    {
        if (values is null)
            return fallback;
        if (values.Count != dims)
            throw new InvalidNetworkException($"layer '{spec.Name}': {field} needs {dims} value(s), got {values.Count}");
        if (values.Any(v => v < minimum || v > 65536))
            throw new InvalidNetworkException($"layer '{spec.Name}': {field} [{string.Join(", ", values)}] must lie in {minimum}..65536");
        return dims == 1 ? [minimum == 0 ? 0 : 1, values[0]] : [values[0], values[1]];
    }

    /// <summary>Output size of a sliding window: ⌊(n + 2p − d(k − 1) − 1)/s⌋ + 1, or an error naming the layer.</summary>
    public static long[] Output(LayerSpec spec, long[] input, in Spatial s)
    {
        var output = new long[2];
        for (int i = 0; i < 2; i++)
        {
            long span = s.Dilation[i] * (s.Kernel[i] - 1) + 1;
            long room = input[i] + 2 * s.Padding[i] - span;
            if (room < 0)
                throw new InvalidNetworkException($"layer '{spec.Name}': a window of {span} does not fit the input of size {input[i]} with padding {s.Padding[i]}");
            output[i] = room / s.Stride[i] + 1;
        }
        return output;
    }
}
