using Fisher.Estimators.Tests.Oracle;
using Xunit;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests;

/// <summary>
/// Monte-Carlo and exact checks of the variances (estimators.md §10.1 items 2, 3 and 8): closed-form V1, V2 against
/// sample variances over many label draws, the 1/N and 1/(NK) scaling of the estimator variance over repeated
/// estimates, and the law of total variance over inputs enumerated uniformly.
/// </summary>
public sealed class MonteCarloTests
{
    private const double Sigmas = 4;

    private static Problem Net(string likelihood, string activation) =>
        new(activation, [3, 4, 3, likelihood == "categorical" ? 3 : 2], likelihood, Batch: 4, Seed: 51, WeightScale: 2.0);

    /// <summary>Per input, the label distribution of both terms from enumeration: mean, variance and 4th central moment.</summary>
    private static (double[] Mean, double[] Variance, double[] Fourth)[] LabelMoments(BruteForceOracle oracle, Tensor x)
    {
        var (f, j, h) = oracle.NetworkDerivatives(x);
        var labels = oracle.Labels(f).Select(l => (l.Weight, Terms: oracle.ChainRule(f, j, h, l.Label))).ToList();
        var result = new (double[] Mean, double[] Variance, double[] Fourth)[2];
        for (int e = 0; e < 2; e++)
        {
            int count = oracle.Count;
            var mean = new double[count];
            var variance = new double[count];
            var fourth = new double[count];
            double Term(int label, int i) => e == 0 ? labels[label].Terms.Score[i] * labels[label].Terms.Score[i] : labels[label].Terms.NegativeHessian[i];
            for (int i = 0; i < count; i++)
            {
                for (int y = 0; y < labels.Count; y++)
                    mean[i] += labels[y].Weight * Term(y, i);
                for (int y = 0; y < labels.Count; y++)
                {
                    double d = Term(y, i) - mean[i];
                    variance[i] += labels[y].Weight * d * d;
                    fourth[i] += labels[y].Weight * d * d * d * d;
                }
            }
            result[e] = (mean, variance, fourth);
        }
        return result;
    }

    /// <summary>
    /// Item 2 by Monte Carlo: with K = 4096 draws of one input, the sample variance of the Î1 and Î2 terms (from the
    /// streams' M2) is within 4 standard errors of the closed-form V1, V2, with SE² = (μ4 − V²)/K from enumeration;
    /// over three inputs, the label part of <see cref="VarianceSplit"/> (i1/i2 with their input means) estimates
    /// E_x V and its input part the variance of I(θ|x) over the inputs.
    /// </summary>
    [Theory]
    [InlineData("categorical", "tanh")]
    [InlineData("bernoulli", "sigmoid")]
    public void ClosedFormVariancesMatchMonteCarloOverLabelDraws(string likelihoodName, string activation)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        const int draws = 4096;
        const int inputs = 3;
        var problem = Net(likelihoodName, activation);
        var sequential = problem.BuildSequential();
        using var network = FeedForwardNetwork.FromSequential(sequential);
        var likelihood = problem.BuildLikelihood();
        var oracle = new BruteForceOracle(sequential, likelihoodName, problem.Variance);
        var x = problem.Inputs();
        var quantities = FisherQuantity.SquaredScore | FisherQuantity.NegativeHessian | FisherQuantity.Exact
            | FisherQuantity.SquaredScoreVariance | FisherQuantity.NegativeHessianVariance | FisherQuantity.InputMeans;
        var estimator = new FisherEstimator(network, likelihood, new EstimatorOptions { Quantities = quantities, DrawsPerInput = draws, Seed = 23 });
        var estimators = new[] { (Term: FisherQuantity.SquaredScore, Variance: FisherQuantity.SquaredScoreVariance), (Term: FisherQuantity.NegativeHessian, Variance: FisherQuantity.NegativeHessianVariance) };

        var perInput = new (double[] Mean, double[] Variance, double[] Fourth)[inputs][];
        var closed = new double[inputs][][];
        for (int n = 0; n < inputs; n++)
        {
            perInput[n] = LabelMoments(oracle, x[n]);
            var m = estimator.Estimate(x[TensorIndex.Slice(n, n + 1)], null, 1000 + n);
            closed[n] = new double[2][];
            for (int e = 0; e < 2; e++)
            {
                var (term, varianceQuantity) = estimators[e];
                closed[n][e] = oracle.Names.SelectMany(p => m[p, varianceQuantity].Mean).ToArray();
                var sampleVariance = oracle.Names.SelectMany(p => m[p, term].SampleVariance()).ToArray();
                var sampleMean = oracle.Names.SelectMany(p => m[p, term].Mean).ToArray();
                var fisher = oracle.Names.SelectMany(p => m[p, FisherQuantity.Exact].Mean).ToArray();
                var (_, variance, fourth) = perInput[n][e];
                for (int i = 0; i < variance.Length; i++)
                {
                    string at = $"{likelihoodName} input {n} {term.Key()}[{i}]";
                    // The closed form is the enumerated variance (identity 2, exact) ...
                    Assert.True(Math.Abs(closed[n][e][i] - variance[i]) <= 1e-9 * (variance[i] + fisher[i] * fisher[i]), $"{at}: closed form {closed[n][e][i]} vs enumeration {variance[i]}");
                    // ... and the Monte-Carlo variance of the terms agrees within 4 SE.
                    double se = Math.Sqrt(Math.Max(0, fourth[i] - variance[i] * variance[i]) / draws);
                    double slack = 1e-10 * fisher[i] * fisher[i] + 1e-300;
                    Assert.True(Math.Abs(sampleVariance[i] - closed[n][e][i]) <= Sigmas * se + slack, $"{at}: MC variance {sampleVariance[i]:R} vs closed form {closed[n][e][i]:R} ({Math.Abs(sampleVariance[i] - closed[n][e][i]) / se:F2} SE)");
                    Assert.True(Math.Abs(sampleMean[i] - fisher[i]) <= Sigmas * Math.Sqrt(variance[i] / draws) + slack, $"{at}: MC mean {sampleMean[i]:R} vs I {fisher[i]:R}");
                }
            }
        }

        // The split over the three inputs, from one batch.
        var batch = estimator.Estimate(x[TensorIndex.Slice(0, inputs)], null, 1000);
        for (int e = 0; e < 2; e++)
        {
            var split = oracle.Names.Select(p => VarianceSplit.Compute(batch, p, estimators[e].Term)).ToArray();
            var label = split.SelectMany(s => s.LabelPart).ToArray();
            var input = split.SelectMany(s => s.InputPart).ToArray();
            for (int i = 0; i < label.Length; i++)
            {
                string at = $"{likelihoodName} {estimators[e].Term.Key()}[{i}]";
                double meanV = Enumerable.Range(0, inputs).Average(n => closed[n][e][i]);
                double labelSe = Math.Sqrt(Enumerable.Range(0, inputs).Sum(n => Math.Max(0, perInput[n][e].Fourth[i] - Math.Pow(perInput[n][e].Variance[i], 2)) / draws)) / inputs;
                double scale = Enumerable.Range(0, inputs).Max(n => perInput[n][e].Mean[i] * perInput[n][e].Mean[i]);
                Assert.True(Math.Abs(label[i] - meanV) <= Sigmas * labelSe + 1e-10 * scale + 1e-300, $"{at}: label part {label[i]:R} vs E_x V {meanV:R}");

                // Input part: unbiased for the sample variance (N − 1) of I(θ|x) over these inputs. Delta-method SE of
                // the sample variance of the input means (each with variance V_n/K), plus the second-order term.
                var fisher = Enumerable.Range(0, inputs).Select(n => perInput[n][e].Mean[i]).ToArray();
                double grand = fisher.Average();
                double fisherVariance = fisher.Sum(v => (v - grand) * (v - grand)) / (inputs - 1);
                double first = Enumerable.Range(0, inputs).Sum(n => 4 * Math.Pow(fisher[n] - grand, 2) * perInput[n][e].Variance[i] / draws) / Math.Pow(inputs - 1, 2);
                double second = 2 * Math.Pow(Enumerable.Range(0, inputs).Sum(n => perInput[n][e].Variance[i] / draws), 2) / Math.Pow(inputs - 1, 2);
                double inputSe = Math.Sqrt(first + second + labelSe * labelSe / ((double)draws * draws));
                Assert.True(Math.Abs(input[i] - fisherVariance) <= Sigmas * inputSe + 1e-10 * scale + 1e-300, $"{at}: input part {input[i]:R} vs Var_x I {fisherVariance:R} ({Math.Abs(input[i] - fisherVariance) / inputSe:F2} SE)");
            }
        }
    }

    /// <summary>
    /// Item 3: over R repeated estimates with N inputs drawn uniformly from a small set and K draws each,
    /// Var(Î) = (1/N)(E_x V/K + Var_x I) for both estimators (1/N overall, 1/(NK) in the label part), within 4 SE;
    /// with K ≥ 2 the mean over repetitions of <see cref="VarianceSplit.VarianceOfEstimate"/> matches it too.
    /// </summary>
    [Theory]
    [InlineData(2, 1)]
    [InlineData(8, 1)]
    [InlineData(2, 4)]
    public void EstimatorVarianceScalesAsOneOverNAndLabelPartAsOneOverNK(int inputs, int draws)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        const int repetitions = 2000;
        var problem = Net("categorical", "sigmoid");
        var sequential = problem.BuildSequential();
        using var network = FeedForwardNetwork.FromSequential(sequential);
        var likelihood = problem.BuildLikelihood();
        var oracle = new BruteForceOracle(sequential, "categorical", problem.Variance);
        var x = problem.Inputs();
        int set = problem.Batch;
        var exact = Enumerable.Range(0, set).Select(n => oracle.Exact(x[n])).ToArray();
        int count = oracle.Count;

        var quantities = FisherQuantity.SquaredScore | FisherQuantity.NegativeHessian | (draws > 1 ? FisherQuantity.InputMeans : FisherQuantity.None);
        var estimator = new FisherEstimator(network, likelihood, new EstimatorOptions { Quantities = quantities, DrawsPerInput = draws, Seed = 29 });
        var random = new Random(draws * 100 + inputs);
        var estimates = new double[2][][];
        var reported = new double[2][][];
        for (int e = 0; e < 2; e++)
        {
            estimates[e] = new double[repetitions][];
            reported[e] = new double[repetitions][];
        }
        for (int r = 0; r < repetitions; r++)
        {
            using var inner = NewDisposeScope();
            var rows = Enumerable.Range(0, inputs).Select(_ => (long)random.Next(set)).ToArray();
            var batch = x.index_select(0, tensor(rows));
            var m = estimator.Estimate(batch, null, (long)r * inputs);
            for (int e = 0; e < 2; e++)
            {
                var term = e == 0 ? FisherQuantity.SquaredScore : FisherQuantity.NegativeHessian;
                estimates[e][r] = oracle.Names.SelectMany(p => m[p, term].Mean).ToArray();
                if (draws > 1)
                    reported[e][r] = oracle.Names.SelectMany(p => VarianceSplit.Compute(m, p, term).VarianceOfEstimate).ToArray();
            }
        }

        for (int e = 0; e < 2; e++)
        {
            for (int i = 0; i < count; i++)
            {
                // Prediction from enumeration: population moments over the uniform input set.
                double meanV = exact.Average(t => e == 0 ? t.ScoreVariance[i] : t.HessianVariance[i]);
                double meanI = exact.Average(t => t.Fisher[i]);
                double varI = exact.Average(t => (t.Fisher[i] - meanI) * (t.Fisher[i] - meanI));
                double predicted = (meanV / draws + varI) / inputs;

                var values = estimates[e].Select(v => v[i]).ToArray();
                double mean = values.Average();
                double s2 = values.Sum(v => (v - mean) * (v - mean)) / (repetitions - 1);
                double m4 = values.Average(v => Math.Pow(v - mean, 4));
                double se = Math.Sqrt(Math.Max(0, m4 - s2 * s2) / repetitions);
                string at = $"N={inputs} K={draws} {(e == 0 ? "Î1" : "Î2")}[{i}]";
                Assert.True(Math.Abs(s2 - predicted) <= Sigmas * se + 1e-12 * meanI * meanI, $"{at}: variance over repetitions {s2:R} vs (E V/K + Var I)/N {predicted:R} ({Math.Abs(s2 - predicted) / se:F2} SE)");
                Assert.True(Math.Abs(mean - meanI) <= Sigmas * Math.Sqrt(predicted / repetitions) + 1e-12 * meanI, $"{at}: mean {mean:R} vs I {meanI:R}");
                if (draws > 1)
                {
                    var estimated = reported[e].Select(v => v[i]).ToArray();
                    double average = estimated.Average();
                    double spread = Math.Sqrt(estimated.Sum(v => (v - average) * (v - average)) / (repetitions - 1) / repetitions);
                    Assert.True(Math.Abs(average - predicted) <= Sigmas * spread + 1e-12 * meanI * meanI, $"{at}: mean VarianceOfEstimate {average:R} vs {predicted:R} ({Math.Abs(average - predicted) / spread:F2} SE)");
                }
            }
        }
    }

    /// <summary>
    /// Item 8, exact: with inputs uniform over a small set and labels enumerated, the single-sample joint variance of
    /// each term equals E_x V + Var_x I, with E_x V and Var_x I from the streamed v1/v2 and exact moments.
    /// </summary>
    [Theory]
    [InlineData("categorical", "sigmoid")]
    [InlineData("categorical", "tanh")]
    [InlineData("bernoulli", "softplus")]
    public void LawOfTotalVarianceHoldsOverEnumeratedInputs(string likelihoodName, string activation)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var problem = Net(likelihoodName, activation);
        var sequential = problem.BuildSequential();
        using var network = FeedForwardNetwork.FromSequential(sequential);
        var oracle = new BruteForceOracle(sequential, likelihoodName, problem.Variance);
        var x = problem.Inputs();
        int set = problem.Batch, count = oracle.Count;
        var estimator = new FisherEstimator(network, problem.BuildLikelihood(), new EstimatorOptions
        {
            Quantities = FisherQuantity.Exact | FisherQuantity.SquaredScoreVariance | FisherQuantity.NegativeHessianVariance,
        });
        var streamed = estimator.Estimate(x, null, 0);

        // Joint enumeration of (x, y): per-sample terms from the oracle's autograd derivatives.
        var terms = new List<(double Weight, double[] Score2, double[] Negative)>();
        for (int n = 0; n < set; n++)
        {
            var (f, j, h) = oracle.NetworkDerivatives(x[n]);
            foreach (var (label, w) in oracle.Labels(f))
            {
                var (score, negative) = oracle.ChainRule(f, j, h, label);
                terms.Add((w / set, score.Select(s => s * s).ToArray(), negative));
            }
        }
        for (int e = 0; e < 2; e++)
        {
            var joint = new double[count];
            var mean = new double[count];
            foreach (var (w, s2, neg) in terms)
                for (int i = 0; i < count; i++)
                    mean[i] += w * (e == 0 ? s2[i] : neg[i]);
            foreach (var (w, s2, neg) in terms)
                for (int i = 0; i < count; i++)
                    joint[i] += w * Math.Pow((e == 0 ? s2[i] : neg[i]) - mean[i], 2);

            var variance = e == 0 ? FisherQuantity.SquaredScoreVariance : FisherQuantity.NegativeHessianVariance;
            var decomposed = oracle.Names.SelectMany(p =>
            {
                var v = streamed[p, variance];
                var fisher = streamed[p, FisherQuantity.Exact];
                return v.Mean.Zip(fisher.M2, (ev, m2) => ev + m2 / fisher.Count);
            }).ToArray();
            var fisherMean = oracle.Names.SelectMany(p => streamed[p, FisherQuantity.Exact].Mean).ToArray();
            Assertions.Close(fisherMean, mean, 1e-10, $"{likelihoodName} {activation} E[term] = E_x I");
            Assertions.Close(decomposed, joint, 1e-9, $"{likelihoodName} {activation} {(e == 0 ? "Î1" : "Î2")}: E_x V + Var_x I vs joint variance", floor: 1e-11, scale: fisherMean.Max(v => v * v));
        }
    }
}
