using System.Globalization;
using System.Text;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;

namespace Fisher.Grains.Tests;

/// <summary>
/// A small residual CNN job written to a temporary folder (under the test silos' data roots): conv, eval BatchNorm,
/// a basic block with a strided 1×1 projection, tanh and SiLU (so Î2 has curvature), global average pooling, Linear;
/// seeded float64 weights as safetensors, inputs as NPY (N, 1, 8, 8), labels as NPY int64 (N).
/// </summary>
internal sealed class ResidualCnn : IDisposable
{
    public const string ArchitectureJson = """
        {"inputShape": [1, 8, 8], "likelihood": "categorical", "layers": [
          {"name": "conv1", "op": "conv2d", "padding": 1},
          {"name": "bn1", "op": "batchnorm"},
          {"name": "act1", "op": "activation", "activation": "tanh"},
          {"name": "block.conv1", "op": "conv2d", "stride": 2, "padding": 1, "bias": false},
          {"name": "block.bn1", "op": "batchnorm"},
          {"name": "block.act", "op": "activation", "activation": "silu"},
          {"name": "block.conv2", "op": "conv2d", "padding": 1},
          {"name": "block.proj", "op": "conv2d", "inputs": ["act1"], "stride": 2, "bias": false},
          {"name": "block.sum", "op": "add", "inputs": ["block.conv2", "block.proj"]},
          {"name": "act2", "op": "activation", "activation": "tanh"},
          {"name": "pool", "op": "adaptiveavgpool2d", "outputSize": 1},
          {"name": "flat", "op": "flatten"},
          {"name": "fc", "op": "linear"}]}
        """;

    /// <summary>The module names of the layers with parameters, in network order.</summary>
    public static readonly string[] ParameterLayers = ["conv1", "bn1", "block.conv1", "block.bn1", "block.conv2", "block.proj", "fc"];

    private static readonly (string Name, long[] Shape)[] Tensors =
    [
        ("conv1.weight", [4, 1, 3, 3]), ("conv1.bias", [4]),
        ("bn1.weight", [4]), ("bn1.bias", [4]), ("bn1.running_mean", [4]), ("bn1.running_var", [4]),
        ("block.conv1.weight", [6, 4, 3, 3]),
        ("block.bn1.weight", [6]), ("block.bn1.bias", [6]), ("block.bn1.running_mean", [6]), ("block.bn1.running_var", [6]),
        ("block.conv2.weight", [6, 6, 3, 3]), ("block.conv2.bias", [6]),
        ("block.proj.weight", [6, 4, 1, 1]),
        ("fc.weight", [3, 6]), ("fc.bias", [3]),
    ];

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "fisher-cnn-" + Guid.NewGuid().ToString("N"));

    public ResidualCnn(int rows)
    {
        Directory.CreateDirectory(_folder);
        var random = new Random(14);
        File.WriteAllText(Architecture, ArchitectureJson);
        Safetensors.Write(Model, Tensors.Select(t => new NamedArray(t.Name, t.Shape, Values(random, t.Name, t.Shape))), float32: false);
        var images = new double[rows * 64];
        for (int i = 0; i < images.Length; i++)
            images[i] = random.NextDouble() * 2 - 1;
        WriteNpy(Inputs, "<f8", $"({rows}, 1, 8, 8)", images.SelectMany(BitConverter.GetBytes).ToArray());
        WriteNpy(Labels, "<i8", $"({rows},)", Enumerable.Range(0, rows).SelectMany(_ => BitConverter.GetBytes((long)random.Next(3))).ToArray());
    }

    public string Architecture => Path.Combine(_folder, "cnn.json");
    public string Model => Path.Combine(_folder, "cnn.safetensors");
    public string Inputs => Path.Combine(_folder, "x.npy");
    public string Labels => Path.Combine(_folder, "y.npy");

    public JobSpec Spec(long inputs, int shards, string grouping) => TestData.Spec(inputs, shards, grouping) with
    {
        ModelPath = Model,
        ArchitecturePath = Architecture,
        InputsPath = Inputs,
        LabelsPath = Labels,
        BatchSize = 32,
    };

    private static double[] Values(Random random, string name, long[] shape)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        double fanIn = shape.Length > 1 ? shape.Skip(1).Aggregate(1L, (a, b) => a * b) : 1;
        return Enumerable.Range(0, (int)n).Select(_ => name.EndsWith("running_var", StringComparison.Ordinal) ? 0.5 + random.NextDouble()
            : name.Contains("bn", StringComparison.Ordinal) && name.EndsWith("weight", StringComparison.Ordinal) ? 0.5 + random.NextDouble()
            : (random.NextDouble() * 2 - 1) / Math.Sqrt(fanIn) * 1.5).ToArray();
    }

    private static void WriteNpy(string path, string dtype, string shape, byte[] data)
    {
        var header = string.Create(CultureInfo.InvariantCulture, $"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape}, }}");
        while ((10 + header.Length + 1) % 64 != 0)
            header += " ";
        header += "\n";
        using var file = File.Create(path);
        file.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)(header.Length & 0xff), (byte)(header.Length >> 8)]);
        file.Write(Encoding.ASCII.GetBytes(header));
        file.Write(data);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
