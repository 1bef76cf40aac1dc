using System.Text.Json.Nodes;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;
using Xunit;
using static TorchSharp.torch;

namespace Fisher.Results.Tests;

/// <summary>
/// A CNN job's result: fisher.safetensors keeps the state_dict names and shapes (a graph's shapes come from its
/// weights), summary.json holds the graph architecture, and the table, summary and report name the layers by module.
/// </summary>
public sealed class CnnResultTests
{
    private const string Architecture = """
        {"inputShape": [1, 6, 6], "likelihood": "categorical", "layers": [
          {"name": "features.0", "op": "conv2d", "kernel": 3},
          {"name": "features.1", "op": "batchnorm"},
          {"name": "features.2", "op": "activation", "activation": "tanh"},
          {"name": "flat", "op": "flatten"},
          {"name": "classifier", "op": "linear"}]}
        """;

    private static readonly (string Name, long[] Shape)[] Tensors =
    [
        ("features.0.weight", [2, 1, 3, 3]), ("features.0.bias", [2]),
        ("features.1.weight", [2]), ("features.1.bias", [2]), ("features.1.running_mean", [2]), ("features.1.running_var", [2]),
        ("classifier.weight", [3, 32]), ("classifier.bias", [3]),
    ];

    [Fact]
    public void CnnLayersAppearByModuleNameWithStateDictShapes()
    {
        TorchRuntime.Configure(1);
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("cnn.json"), Architecture);
        var random = new Random(3);
        Safetensors.Write(folder.File("cnn.safetensors"), Tensors.Select(t => new NamedArray(t.Name, t.Shape,
            Enumerable.Range(0, (int)t.Shape.Aggregate(1L, (a, b) => a * b)).Select(_ => 0.5 + random.NextDouble()).ToArray())), float32: false);
        var architecture = ModelArchitecture.Read(folder.File("cnn.json"));
        using var network = LoadedNetwork.Load(architecture, folder.File("cnn.safetensors"), ScalarType.Float64);
        var spec = Jobs.Spec("i1,i2,exact,v1,v2", draws: 1) with { Grouping = Grouping.PerLayer };
        var groups = Estimate(network, architecture, spec.Quantities);
        var status = Jobs.Status(spec, 64, groups.Count) with { Groups = groups.Select(g => g.Group).ToArray() };

        var result = JobResultAssembler.Assemble(status, architecture, groups, network.ParameterShapes());
        var output = folder.File("result");
        ResultFolder.Write(output, result);

        Assert.Equal(["features.0", "features.1", "classifier"], result.Summary.Groups.Select(g => g.Name));
        Assert.Equal(["features.0", "features.1", "classifier"], ResultTable.Of(result).Rows.Select(r => r[0]));
        var written = Safetensors.Read(Path.Combine(output, "fisher.safetensors")).Tensors;
        Assert.Equal([2L, 1, 3, 3], written["features.0.weight.i2"].Shape);
        Assert.Equal([3L, 32], written["classifier.weight.exact"].Shape);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "summary.json")))!;
        Assert.Equal("conv2d", (string?)summary["architecture"]!["layers"]![0]!["op"]);
        Assert.Equal(architecture, ModelArchitecture.Parse(summary["architecture"]!.ToJsonString(), "summary.json"));
        var report = File.ReadAllText(Path.Combine(output, "report.md"));
        Assert.Contains("features.1", report, StringComparison.Ordinal);
        Assert.Contains("classifier", report, StringComparison.Ordinal);
    }

    private static List<GroupMoments> Estimate(LoadedNetwork network, ModelArchitecture architecture, FisherQuantity quantities)
    {
        using var scope = NewDisposeScope();
        var estimator = network.CreateEstimator(architecture.CreateLikelihood(network.OutputWidth), new EstimatorOptions { Quantities = quantities, DrawsPerInput = 1, Seed = 11 });
        manual_seed(5);
        var moments = estimator.Estimate(randn(64, 36, dtype: ScalarType.Float64), null, 0);
        return network.Groups(Grouping.PerLayer).Select(g => new GroupMoments(g.Name, 64, ["t"],
            moments.Streams.Where(s => g.Parameters.Any(p => p.Name == s.Key.Parameter))
                .OrderBy(s => s.Key.ToString(), StringComparer.Ordinal).ToDictionary(s => s.Key.ToString(), s => s.Value))).ToList();
    }
}
