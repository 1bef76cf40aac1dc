namespace Fisher.Data;

/// <summary>
/// How many tensor elements a weights file may be read into, decided from the header alone: with an architecture,
/// exactly its parameters (keys and shapes are compared first, and only those tensors are read); without one, at most
/// <see cref="ReaderLimits.MaxParameters"/>. An expanded (stride-0) tensor therefore never allocates more than the
/// model declares.
/// </summary>
internal static class WeightBudget
{
    /// <summary>Checks the file's shapes (non-negative, no overflow) and returns the element budget; throws before any read.</summary>
    public static long Check(string path, IReadOnlyDictionary<string, long[]> shapes, IReadOnlyList<(string Name, long[] Shape)>? expected)
    {
        long total = 0;
        foreach (var (key, shape) in shapes)
            total = Add(path, key, total, ElementCount(path, key, shape));
        if (expected is not null)
        {
            ModelLoader.Check(path, shapes, expected); // throws ModelMismatchException listing every difference
            long budget = 0;
            foreach (var (name, shape) in expected)
                budget = Add(path, name, budget, ElementCount(path, name, shape));
            return budget;
        }
        if (total > ReaderLimits.MaxParameters)
            throw new DataFormatException(path, $"the tensors' shapes hold {total} elements; expected at most {ReaderLimits.MaxParameters}");
        return ReaderLimits.MaxParameters;
    }

    /// <summary>The elements of <paramref name="shape"/>; a negative dimension or an overflow is a <see cref="DataFormatException"/>.</summary>
    public static long ElementCount(string path, string key, long[] shape)
    {
        if (shape.Any(d => d < 0))
            throw new DataFormatException(path, $"{key}: negative dimension in shape {Shapes.Format(shape)}");
        try
        {
            return Shapes.ElementCount(shape);
        }
        catch (OverflowException e)
        {
            throw new DataFormatException(path, $"{key}: shape {Shapes.Format(shape)} overflows a 64-bit element count", e);
        }
    }

    private static long Add(string path, string key, long a, long b)
    {
        try
        {
            return checked(a + b);
        }
        catch (OverflowException e)
        {
            throw new DataFormatException(path, $"{key}: the element counts overflow 64-bit arithmetic", e);
        }
    }
}
