using Fisher.Estimators;
using Xunit;
using Xunit.Abstractions;

namespace Fisher.Grains.Tests;

/// <summary>
/// On the real sample (the trained 784-128-64-10 tanh MLP, 2,000 Fashion-MNIST images, K = 2, every quantity), the
/// float32 Gram products that float32 networks use by default (EstimatorOptions.DoublePrecisionMoments = false)
/// add less error than float32 compute itself: the float64 network with float64 products is the reference, and
/// the float32 network with float32 products stays as close to it as the float32 network with float64 products.
/// </summary>
public sealed class MomentPrecisionTests(ITestOutputHelper output)
{
    [Fact]
    public void Float32GramProductsAddLessErrorThanFloat32Compute()
    {
        var reference = TestData.Direct(TestData.Spec(inputs: 2000, shards: 1, grouping: "all", quantities: "everything", precision: "float64"));
        var float32Spec = TestData.Spec(inputs: 2000, shards: 1, grouping: "all", quantities: "everything", precision: "float32");
        var float64Products = TestData.Direct(float32Spec, doublePrecisionMoments: true);
        var float32Products = TestData.Direct(float32Spec, doublePrecisionMoments: false);

        double worstMean = 0, worstM2 = 0;
        foreach (var (key, r) in reference)
        {
            if (key.EndsWith(".i2_negative", StringComparison.Ordinal))
                continue; // a share of signs: float32 rounding flips the signs of terms within rounding of 0 either way
            var a = float64Products[key];
            var b = float32Products[key];
            Assert.Equal(r.Count, b.Count);
            double meanA = Relative(r.Mean, a.Mean), meanB = Relative(r.Mean, b.Mean);
            double m2A = Relative(r.M2, a.M2), m2B = Relative(r.M2, b.M2);
            output.WriteLine($"{key}: mean error {meanA:E2} (float64 products) vs {meanB:E2} (float32 products); M2 {m2A:E2} vs {m2B:E2}");
            Assert.True(meanB <= 2 * meanA + 1e-7, $"{key}: mean error {meanB:E2} with float32 products, {meanA:E2} with float64 products");
            Assert.True(m2B <= 2 * m2A + 1e-6, $"{key}: M2 error {m2B:E2} with float32 products, {m2A:E2} with float64 products");
            worstMean = Math.Max(worstMean, meanB);
            worstM2 = Math.Max(worstM2, m2B);
        }
        output.WriteLine($"worst relative error with float32 products: mean {worstMean:E2}, M2 {worstM2:E2}");
    }

    /// <summary>‖actual − expected‖ / ‖expected‖ over the elements of one stream.</summary>
    private static double Relative(double[] expected, double[] actual)
    {
        double difference = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            difference += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }
        return norm == 0 ? Math.Sqrt(difference) : Math.Sqrt(difference / norm);
    }
}
