using Xunit;

namespace Fisher.Estimators.Tests;

/// <summary>Quantity keys: <c>all</c> keeps meaning the six original quantities; the diagnostics have their own keys.</summary>
public sealed class QuantityNamesTests
{
    [Fact]
    public void AllMeansTheSixOriginalQuantities()
    {
        Assert.Equal(FisherQuantity.All, FisherQuantityNames.Parse("all"));
        Assert.Equal(["i1", "i2", "exact", "empirical", "v1", "v2"], FisherQuantity.All.Split().Select(q => q.Key()).ToArray());
        Assert.Equal(FisherQuantity.All, FisherQuantityNames.Parse("i1, i2,exact,empirical,v1,V2"));
        Assert.Equal(FisherQuantity.SquaredScore | FisherQuantity.NegativeHessian | FisherQuantity.Exact, new EstimatorOptions().Quantities);
    }

    [Fact]
    public void DiagnosticsHaveKeysAndSets()
    {
        var keys = new[] { "i1_input_mean", "i2_input_mean", "i2_negative", "v1_upper", "v1_lower", "v2_upper", "v2_lower", "exact_p3", "exact_p4", "empirical_p3", "empirical_p4", "i1_p3", "i1_p4", "i2_p3", "i2_p4" };
        var diagnostics = FisherQuantity.Everything & ~FisherQuantity.All;
        Assert.Equal(keys, diagnostics.Split().Select(q => q.Key()).ToArray());
        foreach (var single in FisherQuantityNames.Singles)
            Assert.Equal(single, FisherQuantityNames.Parse(single.Key()));
        Assert.Equal(21, FisherQuantityNames.Singles.Count);
        Assert.Equal(FisherQuantityNames.Singles.Count, FisherQuantityNames.Singles.Select(q => q.Key()).Distinct().Count());
        Assert.Equal(FisherQuantity.Everything, FisherQuantityNames.Parse("everything"));
        Assert.Equal(FisherQuantity.Bounds, FisherQuantityNames.Parse("v1_upper,v1_lower,v2_upper,v2_lower"));
        Assert.Equal(FisherQuantity.All | FisherQuantity.Bounds, FisherQuantityNames.Parse("all,bounds"));
        Assert.Equal(FisherQuantity.SquaredScore | FisherQuantity.SquaredScoreInputMean, FisherQuantityNames.Parse("i1,i1_input_mean"));
        Assert.Contains("i2_negative", Assert.Throws<ArgumentException>(() => FisherQuantityNames.Parse("v3")).Message);
        new EstimatorOptions { Quantities = FisherQuantity.Everything }.Validate();
        Assert.Equal(FisherQuantity.PowerSums, FisherQuantityNames.Parse("exact_p3,exact_p4,empirical_p3,empirical_p4,i1_p3,i1_p4,i2_p3,i2_p4"));
        Assert.Throws<ArgumentException>(() => new EstimatorOptions { Quantities = (FisherQuantity)(1 << 22) }.Validate());
    }
}
