using Fisher.Estimators.Graph;
using Xunit;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests.Graph;

/// <summary>
/// Options that change how the graph backend works but not what it computes: a subset of parameters (only the layers
/// they touch are swept), micro-batches (a batch larger than <see cref="GraphBackend.MicroBatch"/> runs in parts), and
/// float32 against float64 networks.
/// </summary>
public sealed class GraphOptionTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly EstimatorOptions All = new() { Quantities = FisherQuantity.Everything, DrawsPerInput = 3, Seed = 9 };

    /// <summary>Subsets of parameters (one tensor, a bias-only subset, a low layer alone, the last layer alone) give the full run's moments for those parameters.</summary>
    [Theory]
    [InlineData("categorical")]
    [InlineData("poisson")]
    public void A_parameter_subset_gives_the_moments_of_the_full_run(string likelihood)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var problem = GraphProblems.Likelihoods().First(p => p.Likelihood == likelihood);
        using var module = problem.BuildModule();
        using var graph = GraphProblem.BuildGraph(module, problem.Spec);
        var lik = problem.BuildLikelihood();
        var x = problem.Inputs();
        var y = problem.ObservedLabels();
        var full = new FisherEstimator(graph, lik, All).Estimate(x, y, 4);
        var names = graph.Layout.Parameters.Select(p => p.Name).ToArray();
        var subsets = new[]
        {
            new[] { names[0] },
            names.Where(n => n.EndsWith(".bias", StringComparison.Ordinal)).ToArray(),
            names.Where(n => n.StartsWith("bn", StringComparison.Ordinal)).Take(2).ToArray(),
            names.Where(n => n.StartsWith(problem.Spec.Output.Name + ".", StringComparison.Ordinal)).ToArray(),
            [names[^1], names[1]],
        };
        foreach (var subset in subsets)
        {
            Assert.NotEmpty(subset);
            var part = new FisherEstimator(graph, lik, All with { Parameters = subset }).Estimate(x, y, 4);
            Assert.Equal(subset.Length * FisherQuantityNames.Singles.Count, part.Streams.Count);
            foreach (var (key, m) in part.Streams)
            {
                Assert.Contains(key.Parameter, subset);
                var reference = full.Streams[key];
                Assert.Equal(reference.Count, m.Count);
                Assertions.Close(m.Mean, reference.Mean, 1e-12, $"{string.Join("+", subset)}: {key} mean");
                Assertions.Close(m.M2, reference.M2, 1e-9, $"{string.Join("+", subset)}: {key} M2");
            }
        }
    }

    /// <summary>
    /// A batch the backend splits into micro-batches (a 1×56×56 input whose activations make one input's working set
    /// large) gives the moments of the same inputs run in small batches and merged.
    /// </summary>
    [Fact]
    public void A_batch_split_into_micro_batches_gives_the_moments_of_small_batches()
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var problem = new NetBuilder(1, 56, 56).Conv2d(6, 3, padding: 1).Act("relu").MaxPool(2).Conv2d(4, 3, padding: 1).Act("relu")
            .AdaptiveAvgPool(2, 2).Flatten().Linear(4).Act("tanh").Problem("wide relu CNN + tanh head", "categorical", 3, batch: 96, seed: 70);
        using var module = problem.BuildModule();
        using var graph = GraphProblem.BuildGraph(module, problem.Spec);
        var lik = problem.BuildLikelihood();
        var x = problem.Inputs();
        var y = problem.ObservedLabels();
        var names = graph.Layout.Parameters.Select(p => p.Name).ToArray();
        long part = new GraphBackend(graph, names).MicroBatch(problem.Batch, Math.Max(lik.Outputs, All.DrawsPerInput) + 1);
        Assert.True(part < problem.Batch / 2, $"the batch of {problem.Batch} should run in at least 3 micro-batches, got parts of {part}");
        output.WriteLine($"micro-batch {part} of a batch of {problem.Batch}");
        var estimator = new FisherEstimator(graph, lik, All);
        var whole = estimator.Estimate(x, y, 100);
        using var accumulator = new FisherAccumulator();
        for (int start = 0; start < problem.Batch; start += 7)
        {
            int size = Math.Min(7, problem.Batch - start);
            estimator.Accumulate(accumulator, x.narrow(0, start, size), y.narrow(0, start, size), 100 + start);
        }
        var pieces = accumulator.ToMoments();
        Assert.Equal(pieces.Streams.Count, whole.Streams.Count);
        foreach (var (key, m) in whole.Streams)
        {
            var reference = pieces.Streams[key];
            Assert.Equal(reference.Count, m.Count);
            double scale = reference.Mean.Select(Math.Abs).DefaultIfEmpty(0).Max();
            Assertions.Close(m.Mean, reference.Mean, 1e-10, $"{key} mean", floor: 1e-12, scale: scale);
            Assertions.Close(m.M2, reference.M2, 1e-8, $"{key} M2", floor: 1e-12);
        }
    }

    /// <summary>A float32 graph built from the same tensors gives the float64 graph's moments to float32 accuracy.</summary>
    [Theory]
    [InlineData("categorical")]
    [InlineData("gaussian")]
    public void A_float32_graph_agrees_with_the_float64_graph_to_float32_accuracy(string likelihood)
    {
        TorchRuntime.Ensure();
        using var scope = NewDisposeScope();
        var problem = GraphProblems.Likelihoods().First(p => p.Likelihood == likelihood);
        using var module = problem.BuildModule();
        using var graph64 = GraphProblem.BuildGraph(module, problem.Spec);
        using var graph32 = GraphProblem.BuildGraph(module, problem.Spec, ScalarType.Float32);
        var lik = problem.BuildLikelihood();
        var x = problem.Inputs(8);
        var y = problem.ObservedLabels(8);
        var options = All with { Quantities = All.Quantities & ~FisherQuantity.NegativeHessianNegative };
        var m64 = new FisherEstimator(graph64, lik, options).Estimate(x, y, 0);
        var m32 = new FisherEstimator(graph32, lik, options).Estimate(x.to(ScalarType.Float32), y, 0);
        double worst = 0;
        foreach (var (key, reference) in m64.Streams)
        {
            var m = m32.Streams[key];
            double scale = reference.Mean.Select(Math.Abs).DefaultIfEmpty(0).Max();
            Assertions.Close(m.Mean, reference.Mean, 1e-4, $"{key} mean", floor: 1e-5, scale: scale);
            worst = Math.Max(worst, Oracle.OracleComparison.RelativeError(m.Mean, reference.Mean, scale));
        }
        Assert.True(worst > 0, "the float32 run is not float32");
        output.WriteLine($"{problem}: worst relative difference of the means, float32 vs float64: {worst:0.0e0}");
    }
}
