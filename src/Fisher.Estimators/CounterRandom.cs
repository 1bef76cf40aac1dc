namespace Fisher.Estimators;

/// <summary>
/// Counter-based uniforms: the j-th uniform of the k-th label draw for the input with global index n is a pure
/// function of (seed, n, k, j), so shards, batch sizes, silos and retries cannot change which labels are drawn
/// (docs/architecture.md, decision 1). Mixing is SplitMix64's finaliser applied to a chained combination of the counters.
/// </summary>
internal static class CounterRandom
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary>A uniform double in the open interval (0, 1) with 53 random bits.</summary>
    public static double Uniform(ulong seed, long sampleIndex, int draw, int component)
    {
        ulong h = Mix(seed ^ Golden);
        h = Mix(h ^ (ulong)sampleIndex);
        h = Mix(h ^ ((ulong)(uint)draw << 32 | (uint)component));
        // 53 bits, shifted by half an ulp so 0 and 1 are never returned.
        return ((h >> 11) + 0.5) * (1.0 / (1UL << 53));
    }

    /// <summary>
    /// Fills uniforms for inputs firstIndex..firstIndex+count-1, draws 0..draws-1 and components 0..components-1,
    /// laid out [input, draw, component].
    /// </summary>
    public static double[] Uniforms(ulong seed, long firstIndex, int count, int draws, int components)
    {
        var result = new double[checked(count * draws * components)];
        int i = 0;
        for (int n = 0; n < count; n++)
            for (int k = 0; k < draws; k++)
                for (int j = 0; j < components; j++)
                    result[i++] = Uniform(seed, firstIndex + n, k, j);
        return result;
    }

    private static ulong Mix(ulong z)
    {
        z += Golden;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
