namespace Fisher.Data;

/// <summary>
/// A named dense array in row-major (C) order with its values as float64, as read from a weights file.
/// Equality is by reference of <see cref="Shape"/> and <see cref="Data"/> (record default); compare contents explicitly.
/// </summary>
public sealed record NamedArray(string Name, long[] Shape, double[] Data)
{
    /// <summary>The number of elements the shape promises (1 for a scalar).</summary>
    public long ElementCount => Shapes.ElementCount(Shape);

    /// <summary>The shape as <c>[a, b]</c>.</summary>
    public string ShapeText => Shapes.Format(Shape);
}

internal static class Shapes
{
    public static long ElementCount(IReadOnlyList<long> shape)
    {
        long n = 1;
        foreach (var d in shape)
            n = checked(n * d);
        return n;
    }

    public static string Format(IReadOnlyList<long> shape) => $"[{string.Join(", ", shape)}]";
}
