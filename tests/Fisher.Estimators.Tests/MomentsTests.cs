using Xunit;

namespace Fisher.Estimators.Tests;

/// <summary>§10.1 item 13: any partition and order of a stream gives the same (n, mean, M2) as one pass.</summary>
public sealed class MomentsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void ChanMergeIsIndependentOfPartitionAndOrder(int seed)
    {
        var random = new Random(seed);
        const int n = 10_000, width = 5;
        var values = new double[n][];
        for (int i = 0; i < n; i++)
            values[i] = Enumerable.Range(0, width).Select(j => 100 * j + Math.Exp(random.NextDouble() * 3) * (1 + j)).ToArray();

        // Reference: two-pass float64 mean and M2.
        var mean = new double[width];
        var m2 = new double[width];
        for (int j = 0; j < width; j++)
        {
            mean[j] = values.Average(v => v[j]);
            m2[j] = values.Sum(v => (v[j] - mean[j]) * (v[j] - mean[j]));
        }

        for (int trial = 0; trial < 5; trial++)
        {
            // A random partition into chunks of random sizes, each reduced from power sums, merged in random order
            // through a random binary tree.
            var order = Enumerable.Range(0, n).OrderBy(_ => random.Next()).ToArray();
            var parts = new List<Moments>();
            for (int start = 0; start < n;)
            {
                int size = Math.Min(n - start, 1 + random.Next(700));
                var s1 = new double[width];
                var s2 = new double[width];
                for (int i = start; i < start + size; i++)
                    for (int j = 0; j < width; j++)
                    {
                        double v = values[order[i]][j] - 0; // raw values, as a batch would give
                        s1[j] += v;
                        s2[j] += v * v;
                    }
                parts.Add(size == 1 || random.Next(2) == 0 ? Single(values, order, start, size) : Moments.FromPowerSums(size, s1, s2));
                start += size;
            }
            while (parts.Count > 1)
            {
                int a = random.Next(parts.Count);
                var left = parts[a];
                parts.RemoveAt(a);
                int b = random.Next(parts.Count);
                left.Merge(parts[b]);
                parts[b] = left;
            }
            var merged = parts[0];
            Assert.Equal(n, merged.Count);
            Assertions.Close(merged.Mean, mean, 1e-12, "mean", floor: 0);
            Assertions.Close(merged.M2, m2, 1e-12, "M2", floor: 0);
        }
    }

    [Fact]
    public void MergingEmptyMomentsChangesNothingAndLengthsMustMatch()
    {
        var m = Moments.FromPowerSums(3, new[] { 3.0, 6.0 }, new[] { 5.0, 14.0 });
        m.Merge(Moments.Empty(2));
        Assert.Equal(3, m.Count);
        Assert.Equal(new[] { 1.0, 2.0 }, m.Mean);
        Assert.Throws<ArgumentException>(() => m.Merge(Moments.Empty(3)));
    }

    /// <summary>Welford's one-at-a-time update, as a second independent way to build a partial.</summary>
    private static Moments Single(double[][] values, int[] order, int start, int size)
    {
        int width = values[0].Length;
        var acc = Moments.Empty(width);
        for (int i = start; i < start + size; i++)
            acc.Merge(new Moments(1, (double[])values[order[i]].Clone(), new double[width]));
        return acc;
    }
}
