using Fisher.Estimators.Tests.Oracle;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests;

/// <summary>
/// Per-input, per-label values from the library: with one input and one given "drawn" label, each moment's mean
/// is the single per-sample term. Used to check identities by enumerating labels.
/// </summary>
internal sealed class LabelTerms
{
    public LabelTerms(Problem problem)
    {
        Problem = problem;
        Sequential = problem.BuildSequential();
        Network = FeedForwardNetwork.FromSequential(Sequential);
        Likelihood = problem.BuildLikelihood();
        Oracle = new BruteForceOracle(Sequential, problem.Likelihood, problem.Variance);
        Inputs = problem.Inputs();
    }

    public Problem Problem { get; }
    public nn.Module<Tensor, Tensor> Sequential { get; }
    public FeedForwardNetwork Network { get; }
    public Likelihood Likelihood { get; }
    public BruteForceOracle Oracle { get; }
    public Tensor Inputs { get; }

    public IEnumerable<string> Names => Network.Layout.Parameters.Select(p => p.Name);

    /// <summary>Exact, V1 and V2 (closed forms of the library) for input n.</summary>
    public FisherMoments Conditional(int n)
    {
        var estimator = new FisherEstimator(Network, Likelihood, new EstimatorOptions
        {
            Quantities = FisherQuantity.Exact | FisherQuantity.SquaredScoreVariance | FisherQuantity.NegativeHessianVariance,
        });
        return estimator.Estimate(Inputs[TensorIndex.Slice(n, n + 1)], null, n);
    }

    /// <summary>Î1 and Î2 terms of input n with the given label (oracle's flat form).</summary>
    public FisherMoments ForLabel(int n, double[] label)
    {
        var estimator = new FisherEstimator(Network, Likelihood, new EstimatorOptions
        {
            Quantities = FisherQuantity.SquaredScore | FisherQuantity.NegativeHessian | FisherQuantity.Exact,
        });
        Tensor drawn = Likelihood.HasClassLabels
            ? tensor(new long[] { (long)label[0] }, new long[] { 1, 1 })
            : tensor(label, new long[] { 1, 1, label.Length }, ScalarType.Float64);
        return estimator.EstimateWithDrawnLabels(Inputs[TensorIndex.Slice(n, n + 1)], null, drawn);
    }

    /// <summary>Labels and their probabilities (exact enumeration or Gauss–Hermite nodes) at input n.</summary>
    public IReadOnlyList<(double[] Label, double Weight)> Labels(int n)
    {
        using var f = Network.Forward(Inputs[TensorIndex.Slice(n, n + 1)]);
        return Oracle.Labels(f[0].data<double>().ToArray());
    }
}
