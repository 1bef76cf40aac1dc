using Xunit;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests.Oracle;

/// <summary>
/// Acceptance 1 for any network the library and the brute-force oracle both run (an MLP, or a layer graph and its
/// torch reference): the estimator's batch sums and sums of squares of every quantity (Î1, Î2, exact, empirical, V1,
/// V2, the per-input label means, the four bounds, the third and fourth powers of every estimate's per-input values) equal the oracle's to <see cref="Relative"/>, and the count of
/// negative Î2 terms lies between the oracle's clearly negative and not-clearly-positive terms.
/// </summary>
internal static class OracleComparison
{
    public const double Relative = 1e-9;

    /// <summary>Entries smaller than this fraction of a parameter's largest entry are judged absolutely (as by <see cref="Assertions.Close"/>).</summary>
    public const double Floor = 1e-11;

    public const int Draws = 2;
    public const ulong Seed = 7;
    public const long First = 10;

    /// <summary>
    /// Runs the comparison; returns the worst relative error per quantity, |got − expected| / max(|expected|,
    /// 1e-2·max|expected|) (the measure the assertions bound by about 1e-9). With <paramref name="chainRule"/> the
    /// per-label scores and Hessian diagonals come from one set of network derivatives per input (f, ∂f/∂θ, and the
    /// Hessian diagonals of each f_o, by double backward) and the textbook derivatives of the log-density; otherwise
    /// from autograd of the log-density itself per label.
    /// </summary>
    public static Dictionary<FisherQuantity, double> Check(string title, BruteForceOracle oracle, Func<EstimatorOptions, FisherEstimator> estimatorFor,
        Func<Tensor, Tensor> forward, Likelihood likelihood, Tensor x, Tensor observed, bool chainRule)
    {
        var estimator = estimatorFor(new EstimatorOptions { Quantities = FisherQuantity.Everything, DrawsPerInput = Draws, Seed = Seed });
        var moments = estimator.Estimate(x, observed, First);
        var drawn = LabelDraws.Sample(likelihood, forward(x), Seed, First, Draws);
        var reference = Reference(oracle, likelihood, x, observed, drawn, chainRule);
        long batch = x.shape[0];
        CheckNegativeCounts(title, oracle, moments, reference, batch);
        var worst = new Dictionary<FisherQuantity, double>();
        foreach (var quantity in FisherQuantityNames.Singles.Where(q => q != FisherQuantity.NegativeHessianNegative))
        {
            foreach (var name in oracle.Names)
            {
                var m = moments[name, quantity];
                long expectedCount = quantity is FisherQuantity.SquaredScore or FisherQuantity.NegativeHessian ? batch * Draws : batch;
                Assert.Equal(expectedCount, m.Count);
                var (scale, squaresScale) = Scales(oracle, reference.Sums, quantity, name);
                var sum = m.Sum();
                var squares = m.SumOfSquares();
                var expectedSum = oracle.Slice(reference.Sums[quantity].S1, name);
                var expectedSquares = oracle.Slice(reference.Sums[quantity].S2, name);
                Assertions.Close(sum, expectedSum, Relative, $"{title} {name}.{quantity.Key()} Σv", floor: Floor, scale: scale);
                Assertions.Close(squares, expectedSquares, Relative, $"{title} {name}.{quantity.Key()} Σv²", floor: Floor, scale: squaresScale);
                double error = Math.Max(RelativeError(sum, expectedSum, scale), RelativeError(squares, expectedSquares, squaresScale));
                worst[quantity] = Math.Max(worst.GetValueOrDefault(quantity), error);
            }
        }
        return worst;
    }

    /// <summary>The worst |got − expected| / max(|expected|, 1e-2·scale) of a vector.</summary>
    public static double RelativeError(double[] actual, double[] expected, double? scale = null)
    {
        double magnitude = scale ?? (expected.Length == 0 ? 0 : expected.Max(Math.Abs));
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double denominator = Math.Max(Math.Abs(expected[i]), Floor / Relative * magnitude);
            if (denominator > 0)
                worst = Math.Max(worst, Math.Abs(actual[i] - expected[i]) / denominator);
        }
        return worst;
    }

    /// <summary>The oracle's sums: per quantity Σv and Σv² over the batch, and the negative-Î2 counts.</summary>
    private sealed record ReferenceSums(Dictionary<FisherQuantity, (double[] S1, double[] S2)> Sums, double[] NegativeStrict, double[] NegativeLoose);

    private static ReferenceSums Reference(BruteForceOracle oracle, Likelihood likelihood, Tensor x, Tensor observed, Tensor drawn, bool chainRule)
    {
        int count = oracle.Count;
        var sums = FisherQuantityNames.Singles.ToDictionary(q => q, _ => (S1: new double[count], S2: new double[count]));
        // Negative Î2 terms: terms within rounding of 0 may fall either way, so count the clearly negative ones and
        // the ones that are not clearly positive.
        var negativeStrict = new double[count];
        var negativeLoose = new double[count];
        void Add(FisherQuantity q, double[] values)
        {
            var (s1, s2) = sums[q];
            for (int i = 0; i < count; i++)
            {
                s1[i] += values[i];
                s2[i] += values[i] * values[i];
            }
        }

        for (int n = 0; n < x.shape[0]; n++)
        {
            var xn = x[n];
            var (f, j, h) = oracle.NetworkDerivatives(xn);
            (double[] Score, double[] NegativeHessian) Terms(double[] label) => chainRule ? oracle.ChainRule(f, j, h, label) : oracle.Direct(xn, label);
            var meanSquaredScore = new double[count];
            var meanNegativeHessian = new double[count];
            for (int k = 0; k < Draws; k++)
            {
                var (score, negative) = Terms(Label(drawn, n, k, likelihood));
                Add(FisherQuantity.SquaredScore, score.Select(s => s * s).ToArray());
                Add(FisherQuantity.NegativeHessian, negative);
                double tolerance = 1e-12 * negative.Max(Math.Abs);
                for (int i = 0; i < count; i++)
                {
                    meanSquaredScore[i] += score[i] * score[i] / Draws;
                    meanNegativeHessian[i] += negative[i] / Draws;
                    negativeStrict[i] += negative[i] < -tolerance ? 1 : 0;
                    negativeLoose[i] += negative[i] < tolerance ? 1 : 0;
                }
            }
            Add(FisherQuantity.SquaredScoreInputMean, meanSquaredScore);
            Add(FisherQuantity.NegativeHessianInputMean, meanNegativeHessian);
            // The per-input values of Î1 and Î2 are the means of the draws (Draws ≥ 2).
            Add(FisherQuantity.SquaredScoreThirdPower, meanSquaredScore.Select(v => v * v * v).ToArray());
            Add(FisherQuantity.SquaredScoreFourthPower, meanSquaredScore.Select(v => v * v * v * v).ToArray());
            Add(FisherQuantity.NegativeHessianThirdPower, meanNegativeHessian.Select(v => v * v * v).ToArray());
            Add(FisherQuantity.NegativeHessianFourthPower, meanNegativeHessian.Select(v => v * v * v * v).ToArray());
            var bounds = OracleBounds.Compute(oracle, f, j, h, likelihood.HasClassLabels);
            Add(FisherQuantity.V1Upper, bounds.V1Upper);
            Add(FisherQuantity.V1Lower, bounds.V1Lower);
            Add(FisherQuantity.V2Upper, bounds.V2Upper);
            Add(FisherQuantity.V2Lower, bounds.V2Lower);
            var (observedScore, _) = Terms(Label(observed.unsqueeze(1), n, 0, likelihood));
            var empirical = observedScore.Select(s => s * s).ToArray();
            Add(FisherQuantity.Empirical, empirical);
            var exact = oracle.Exact(f, j, h);
            Add(FisherQuantity.Exact, exact.Fisher);
            Add(FisherQuantity.ExactThirdPower, exact.Fisher.Select(v => v * v * v).ToArray());
            Add(FisherQuantity.ExactFourthPower, exact.Fisher.Select(v => v * v * v * v).ToArray());
            Add(FisherQuantity.EmpiricalThirdPower, empirical.Select(v => v * v * v).ToArray());
            Add(FisherQuantity.EmpiricalFourthPower, empirical.Select(v => v * v * v * v).ToArray());
            Add(FisherQuantity.SquaredScoreVariance, exact.ScoreVariance);
            Add(FisherQuantity.NegativeHessianVariance, exact.HessianVariance);
        }
        return new ReferenceSums(sums, negativeStrict, negativeLoose);
    }

    private static void CheckNegativeCounts(string title, BruteForceOracle oracle, FisherMoments moments, ReferenceSums reference, long batch)
    {
        foreach (var name in oracle.Names)
        {
            var m = moments[name, FisherQuantity.NegativeHessianNegative];
            Assert.Equal(batch * Draws, m.Count);
            var counted = m.Sum();
            var strict = oracle.Slice(reference.NegativeStrict, name);
            var loose = oracle.Slice(reference.NegativeLoose, name);
            for (int i = 0; i < counted.Length; i++)
            {
                Assert.True(counted[i] >= strict[i] - 1e-9 && counted[i] <= loose[i] + 1e-9, $"{title} {name}.i2_negative[{i}]: {counted[i]} negative terms, oracle {strict[i]}..{loose[i]}");
                Assert.Equal(counted[i], m.SumOfSquares()[i], 9); // indicators: Σv² = Σv
            }
        }
    }

    /// <summary>
    /// V1 and V2 are differences of label moments (E s⁴ − I², E t² − I²): where they vanish in theory the reference
    /// keeps rounding noise of order 1e-16·I², so their floor is set by Σ I² of the parameter. The same holds for the
    /// lower bounds, whose constant is 0 in theory for the softmax with C ≥ 3 (the reference's eigenvalue is rounding
    /// noise), and for the bounds in general (eigenvalue rounding).
    /// </summary>
    private static (double? Sum, double? Squares) Scales(BruteForceOracle oracle, Dictionary<FisherQuantity, (double[] S1, double[] S2)> sums, FisherQuantity quantity, string name)
    {
        double? scale = null;
        if (quantity is FisherQuantity.SquaredScoreVariance or FisherQuantity.NegativeHessianVariance)
            scale = oracle.Slice(sums[FisherQuantity.Exact].S2, name).Max();
        if (quantity is FisherQuantity.V1Upper or FisherQuantity.V1Lower)
            scale = oracle.Slice(sums[FisherQuantity.V1Upper].S1, name).Max();
        if (quantity is FisherQuantity.V2Upper or FisherQuantity.V2Lower)
            scale = oracle.Slice(sums[FisherQuantity.V2Upper].S1, name).Max();
        double? squaresScale = quantity is FisherQuantity.V1Upper or FisherQuantity.V1Lower or FisherQuantity.V2Upper or FisherQuantity.V2Lower
            ? oracle.Slice(sums[quantity is FisherQuantity.V1Upper or FisherQuantity.V1Lower ? FisherQuantity.V1Upper : FisherQuantity.V2Upper].S2, name).Max()
            : scale * scale;
        return (scale, squaresScale);
    }

    /// <summary>One label as the oracle's flat vector, from a tensor with a draw axis.</summary>
    internal static double[] Label(Tensor labels, int n, int k, Likelihood likelihood) =>
        likelihood.HasClassLabels
            ? [labels[n, k].to(ScalarType.Float64).item<double>()]
            : labels[n, k].to(ScalarType.Float64).data<double>().ToArray();
}
