using Fisher.Estimators;
using static TorchSharp.torch;

namespace Fisher.Results.Tests;

/// <summary>
/// Which variance each estimate carries (<see cref="EstimateVariance"/>, docs/estimators.md §3.4): the closed-form label
/// part with the exact input part when the job computed them, the draws otherwise, and a Monte Carlo check that the
/// closed-form variance for the job's own inputs is the spread of Î1 and Î2 over label seeds.
/// </summary>
public sealed class UncertaintyTests
{
    private static double[] Data(JobResult result, string parameter, string suffix) =>
        (result.Tensor(parameter, suffix) ?? throw new Xunit.Sdk.XunitException($"no tensor {parameter}.{suffix}")).Data;

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void With_the_closed_form_and_the_exact_diagonal_the_variance_is_their_sum(int draws)
    {
        var groups = Jobs.Estimated(FisherQuantity.All | (draws > 1 ? FisherQuantity.InputMeans : FisherQuantity.None), draws);
        var result = Jobs.Assemble(Jobs.Spec("all", draws), groups);
        int n = 64;
        foreach (var group in groups)
        {
            foreach (var parameter in group.Parameters)
            {
                var exact = group.Stream(parameter, FisherQuantity.Exact)!.SampleVariance();
                foreach (var estimate in new[] { QuantityCatalog.SquaredScore, QuantityCatalog.NegativeHessian })
                {
                    var v = group.Stream(parameter, estimate.ConditionalVarianceStream)!.Mean;
                    var variance = Data(result, parameter, estimate.VarianceKey);
                    var given = Data(result, parameter, estimate.GivenInputsVarianceKey);
                    var label = Data(result, parameter, estimate.LabelPartKey);
                    for (int i = 0; i < v.Length; i++)
                    {
                        Assert.Equal((float)((exact[i] + v[i] / draws) / n), variance[i]);
                        Assert.Equal((float)(v[i] / (n * draws)), given[i]);
                        Assert.Equal((float)v[i], label[i]);
                    }
                    // The draws' estimate of the label part stays beside the closed form as a check (K ≥ 2 only).
                    var check = result.Tensor(parameter, estimate.LabelPartFromDrawsKey);
                    if (draws == 1)
                    {
                        Assert.Null(check);
                    }
                    else
                    {
                        var split = VarianceSplit.Compute(group.Stream(parameter, estimate.Stream)!, group.Stream(parameter, estimate.InputMeanStream)!, draws);
                        Assert.Equal(split.LabelPart.Select(x => (double)(float)x), check!.Data);
                    }
                }
                Assert.Equal(group.Stream(parameter, FisherQuantity.Exact)!.VarianceOfMean().Select(x => (double)(float)x), Data(result, parameter, QuantityCatalog.Exact.VarianceKey));
                Assert.Null(result.Tensor(parameter, QuantityCatalog.Exact.GivenInputsVarianceKey)); // no label noise
            }
        }
        foreach (var g in result.Summary.Groups)
        {
            Assert.Equal(EstimateVariance.ClosedFormBasis, g.Quantity(QuantityCatalog.SquaredScore)!.Variance);
            Assert.Equal(EstimateVariance.ClosedFormLabelsBasis, g.Quantity(QuantityCatalog.NegativeHessian)!.VarianceGivenInputs);
            Assert.Equal(0.0, g.Quantity(QuantityCatalog.Exact)!.RelativeStandardErrorGivenInputs);
            Assert.True(g.Quantity(QuantityCatalog.SquaredScore)!.RelativeStandardErrorGivenInputs < g.Quantity(QuantityCatalog.SquaredScore)!.RelativeStandardError);
        }
        var table = ResultTable.Of(result);
        Assert.Contains("Î1, Î2: " + EstimateVariance.ClosedFormBasis, table.Uncertainty, StringComparison.Ordinal);
        Assert.Contains("exact, empirical: " + EstimateVariance.TermsBasis, table.Uncertainty, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_the_closed_form_the_variance_comes_from_the_draws()
    {
        var groups = Jobs.Estimated(FisherQuantity.SquaredScore | FisherQuantity.NegativeHessian | FisherQuantity.InputMeans, 3);
        var result = Jobs.Assemble(Jobs.Spec("i1,i2", 3), groups);
        foreach (var group in groups)
        {
            foreach (var parameter in group.Parameters)
            {
                var split = VarianceSplit.Compute(group.Stream(parameter, FisherQuantity.SquaredScore)!, group.Stream(parameter, FisherQuantity.SquaredScoreInputMean)!, 3);
                Assert.Equal(split.VarianceOfEstimate.Select(x => (double)(float)x), Data(result, parameter, "i1_var"));
                Assert.Equal(split.LabelPart.Select(x => (double)(float)(x / (64 * 3))), Data(result, parameter, "i1_var_given_inputs"));
                Assert.Null(result.Tensor(parameter, QuantityCatalog.SquaredScore.LabelPartFromDrawsKey));
            }
        }
        Assert.All(result.Summary.Groups, g => Assert.Equal(EstimateVariance.DrawsBasis, g.Quantity(QuantityCatalog.SquaredScore)!.Variance));
        Assert.Contains("Î1, Î2: " + EstimateVariance.DrawsBasis, ResultTable.Of(result).Uncertainty, StringComparison.Ordinal);
    }

    /// <summary>
    /// The oracle for the variance given the inputs: 64 inputs held fixed, K = 2 draws, 600 label seeds. The variance of Î1
    /// and Î2 over the seeds must match the closed-form E_x V/(NK) the job reports, parameter by parameter (within the
    /// sampling error of a variance from 600 values: the group means within 10 %, the parameters' median ratio within
    /// 10 %), and the variance for the input distribution must be larger than it (it adds Var_x I / N).
    /// </summary>
    [Fact]
    public void The_closed_form_variance_given_the_inputs_is_the_spread_over_label_seeds()
    {
        Fisher.Estimators.TorchRuntime.Configure(1);
        const int seeds = 600, n = 64, draws = 2;
        using var scope = NewDisposeScope();
        using var network = FeedForwardNetwork.CreateRandom(Jobs.Architecture.Widths, Activation.Parse("tanh"), ScalarType.Float64, seed: 3);
        manual_seed(5);
        var inputs = randn(n, 5, dtype: ScalarType.Float64);
        var quantities = FisherQuantity.SquaredScore | FisherQuantity.NegativeHessian | FisherQuantity.SquaredScoreVariance | FisherQuantity.NegativeHessianVariance;
        var runs = Enumerable.Range(0, seeds).Select(seed =>
            new FisherEstimator(network, Jobs.Architecture.CreateLikelihood(), new EstimatorOptions { Quantities = quantities, DrawsPerInput = draws, Seed = (ulong)seed })
                .Estimate(inputs, null, 0)).ToArray();
        foreach (var (estimate, variance) in new[] { (FisherQuantity.SquaredScore, FisherQuantity.SquaredScoreVariance), (FisherQuantity.NegativeHessian, FisherQuantity.NegativeHessianVariance) })
        {
            foreach (var key in runs[0].Streams.Keys.Where(k => k.Quantity == estimate))
            {
                var predicted = runs[0][key.Parameter, variance].Mean.Select(v => v / (n * draws)).ToArray();
                Assert.All(runs, r => Assert.Equal(runs[0][key.Parameter, variance].Mean, r[key.Parameter, variance].Mean)); // closed form: no draws in it
                var observed = new double[predicted.Length];
                for (int i = 0; i < observed.Length; i++)
                {
                    var values = runs.Select(r => r[key.Parameter, estimate].Mean[i]).ToArray();
                    double mean = values.Average();
                    observed[i] = values.Sum(x => (x - mean) * (x - mean)) / (seeds - 1);
                }
                var ratios = observed.Zip(predicted).Where(p => p.Second > 1e-12).Select(p => p.First / p.Second).Order().ToArray();
                string what = $"{key.Parameter} {estimate.Key()}";
                if (ratios.Length == 0)
                {
                    Assert.All(observed, o => Assert.True(o < 1e-20, $"{what}: V = 0 but Î varies over seeds ({o})"));
                    continue;
                }
                Assert.InRange(observed.Sum() / predicted.Sum(), 0.9, 1.1);
                Assert.InRange(ratios[ratios.Length / 2], 0.9, 1.1);
            }
        }
    }
}
