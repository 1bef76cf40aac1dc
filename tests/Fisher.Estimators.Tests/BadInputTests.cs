using Xunit;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests;

/// <summary>Acceptance 5: bad input is refused in managed code with a message naming the field and the expectation.</summary>
public sealed class BadInputTests
{
    private static (FeedForwardNetwork Network, FisherEstimator Estimator) Build(string likelihood = "categorical", FisherQuantity quantities = FisherQuantity.All, int outputs = 3)
    {
        TorchRuntime.Ensure();
        var network = FeedForwardNetwork.CreateRandom([4, 5, outputs], Activation.Tanh, ScalarType.Float64, seed: 2);
        return (network, new FisherEstimator(network, Likelihood.Create(likelihood, outputs), new EstimatorOptions { Quantities = quantities }));
    }

    [Fact]
    public void WrongInputWidthNamesTheLayerAndTheExpectedShape()
    {
        var (network, estimator) = Build();
        using var _ = network;
        var e = Assert.Throws<InvalidBatchException>(() => estimator.Estimate(zeros(3, 5, dtype: ScalarType.Float64), tensor(new long[] { 0, 1, 2 }), 0));
        Assert.Equal("inputs", e.Field);
        Assert.Contains("[batch, 4]", e.Message);
        Assert.Contains("'0'", e.Message);
    }

    [Fact]
    public void NaNInputsAreRefused()
    {
        var (network, estimator) = Build();
        using var _ = network;
        var x = zeros(3, 4, dtype: ScalarType.Float64);
        x[1, 2] = tensor(double.NaN);
        var e = Assert.Throws<InvalidBatchException>(() => estimator.Estimate(x, tensor(new long[] { 0, 1, 2 }), 0));
        Assert.Contains("NaN", e.Message);
    }

    [Theory]
    [InlineData(3L)]
    [InlineData(-1L)]
    public void ClassLabelOutOfRangeIsRefused(long bad)
    {
        var (network, estimator) = Build();
        using var _ = network;
        var e = Assert.Throws<InvalidBatchException>(() => estimator.Estimate(zeros(3, 4, dtype: ScalarType.Float64), tensor(new long[] { 0, bad, 2 }), 0));
        Assert.Equal("labels", e.Field);
        Assert.Contains("out of range", e.Message);
        Assert.Contains("0..2", e.Message);
    }

    [Fact]
    public void OtherLabelErrorsAreRefused()
    {
        var (network, estimator) = Build();
        using (network)
        {
            Assert.Contains("shape [3]", Assert.Throws<InvalidBatchException>(() => estimator.Estimate(zeros(3, 4, dtype: ScalarType.Float64), tensor(new long[] { 0, 1 }), 0)).Message);
            Assert.Contains("observed labels", Assert.Throws<InvalidBatchException>(() => estimator.Estimate(zeros(3, 4, dtype: ScalarType.Float64), null, 0)).Message);
        }
        var (bernoulliNet, bernoulli) = Build("bernoulli", outputs: 2);
        using (bernoulliNet)
            Assert.Contains("0 or 1", Assert.Throws<InvalidBatchException>(() => bernoulli.Estimate(zeros(2, 4, dtype: ScalarType.Float64), tensor(new double[] { 0, 2, 1, 0 }, new long[] { 2, 2 }), 0)).Message);
        var (poissonNet, poisson) = Build("poisson", outputs: 2);
        using (poissonNet)
            Assert.Contains("non-negative whole", Assert.Throws<InvalidBatchException>(() => poisson.Estimate(zeros(2, 4, dtype: ScalarType.Float64), tensor(new double[] { 0, -1, 1, 0 }, new long[] { 2, 2 }), 0)).Message);
        var (gaussianNet, gaussian) = Build("gaussian", outputs: 2);
        using (gaussianNet)
            Assert.Contains("NaN", Assert.Throws<InvalidBatchException>(() => gaussian.Estimate(zeros(2, 4, dtype: ScalarType.Float64), tensor(new double[] { 0, double.NaN, 1, 0 }, new long[] { 2, 2 }), 0)).Message);
    }

    [Fact]
    public void DrawsBelowOneAndEmptyQuantitiesAreRefused()
    {
        using var network = FeedForwardNetwork.CreateRandom([4, 5, 3], Activation.Tanh, ScalarType.Float64, seed: 2);
        var e = Assert.Throws<ArgumentException>(() => new FisherEstimator(network, new CategoricalLikelihood(3), new EstimatorOptions { DrawsPerInput = 0 }));
        Assert.Contains("DrawsPerInput must be at least 1", e.Message);
        Assert.Throws<ArgumentException>(() => new FisherEstimator(network, new CategoricalLikelihood(3), new EstimatorOptions { Quantities = FisherQuantity.None }));
        Assert.Contains("reads 4 outputs", Assert.Throws<InvalidNetworkException>(() => new FisherEstimator(network, new CategoricalLikelihood(4), new EstimatorOptions())).Message);
        Assert.Contains("unknown parameter '9.weight'", Assert.Throws<ArgumentException>(() => new FisherEstimator(network, new CategoricalLikelihood(3), new EstimatorOptions { Parameters = ["9.weight"] })).Message);
    }

    [Fact]
    public void UnsupportedLayersAreNamed()
    {
        TorchRuntime.Ensure();
        using var withDropout = nn.Sequential(("0", nn.Linear(4, 5)), ("1", nn.Tanh()), ("2", nn.Dropout(0.5)), ("3", nn.Linear(5, 3)));
        var e = Assert.Throws<UnsupportedLayerException>(() => FeedForwardNetwork.FromSequential(withDropout));
        Assert.Equal("2", e.Layer);
        Assert.Contains("Dropout", e.Message);
        using var endsWithActivation = nn.Sequential(("0", nn.Linear(4, 5)), ("1", nn.Sigmoid()));
        Assert.Contains("output layer must be Linear", Assert.Throws<InvalidNetworkException>(() => FeedForwardNetwork.FromSequential(endsWithActivation)).Message);
        Assert.Contains("unknown activation 'swishy'", Assert.Throws<ArgumentException>(() => Activation.Parse("swishy")).Message);
        using var betaSoftplus = nn.Sequential(("0", nn.Linear(4, 5)), ("1", nn.Softplus(2.0)), ("2", nn.Linear(5, 3)));
        Assert.Contains("beta 2", Assert.Throws<UnsupportedLayerException>(() => FeedForwardNetwork.FromSequential(betaSoftplus)).Message);
        using var tanhGelu = nn.Sequential(("0", nn.Linear(4, 5)), ("1", nn.GELU(TorchSharp.Modules.GELU.Approximate.tanh)), ("2", nn.Linear(5, 3)));
        Assert.Equal("1", Assert.Throws<UnsupportedLayerException>(() => FeedForwardNetwork.FromSequential(tanhGelu)).Layer);
    }

    [Fact]
    public void TheEstimatorKeepsWorkingAfterARefusedBatch()
    {
        var (network, estimator) = Build();
        using var _ = network;
        var x = randn(3, 4, dtype: ScalarType.Float64);
        var y = tensor(new long[] { 0, 1, 2 });
        var before = estimator.Estimate(x, y, 0);
        Assert.Throws<InvalidBatchException>(() => estimator.Estimate(x, tensor(new long[] { 0, 5, 2 }), 0));
        var after = estimator.Estimate(x, y, 0);
        foreach (var (key, m) in before.Streams)
            Assert.Equal(m.Mean, after.Streams[key].Mean);
    }
}
