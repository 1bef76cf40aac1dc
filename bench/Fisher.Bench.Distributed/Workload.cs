using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;

namespace Fisher.Bench.Distributed;

/// <summary>The benchmark's job: a random-weight MLP 784-256-256-10 tanh (no training needed) over Fashion-MNIST.</summary>
internal static class Workload
{
    public static readonly int[] Widths = [784, 256, 256, 10];
    public const FisherQuantity Quantities = FisherQuantity.All;
    public const ulong Seed = 42;

    public static string ModelPath(string folder) => Path.Combine(folder, "model.safetensors");

    public static string ArchitecturePath(string folder) => Path.Combine(folder, "model.json");

    /// <summary>Writes seeded random weights (uniform in ±1/sqrt(fan_in), as torch.nn.Linear initialises) and the architecture file.</summary>
    public static void Write(string folder)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(1);
        var tensors = new List<NamedArray>();
        for (int l = 0; l < Widths.Length - 1; l++)
        {
            int fanIn = Widths[l], fanOut = Widths[l + 1];
            double bound = 1 / Math.Sqrt(fanIn);
            double Draw() => (2 * random.NextDouble() - 1) * bound;
            string name = (2 * l).ToString(System.Globalization.CultureInfo.InvariantCulture);
            tensors.Add(new NamedArray($"{name}.weight", [fanOut, fanIn], Enumerable.Range(0, fanOut * fanIn).Select(_ => Draw()).ToArray()));
            tensors.Add(new NamedArray($"{name}.bias", [fanOut], Enumerable.Range(0, fanOut).Select(_ => Draw()).ToArray()));
        }
        Safetensors.Write(ModelPath(folder), tensors);
        File.WriteAllText(ArchitecturePath(folder), """
            {
              "widths": [784, 256, 256, 10],
              "activations": ["tanh", "tanh"],
              "likelihood": "categorical",
              "variance": 1.0,
              "layerNames": ["0", "2", "4"],
              "input": { "scale": 0.00392156862745098, "shift": 0.0 }
            }
            """);
    }

    public static JobSpec Spec(Options options, long inputs, string grouping) => new()
    {
        ModelPath = ModelPath(options.Folder!),
        ArchitecturePath = ArchitecturePath(options.Folder!),
        InputsPath = options.Images,
        LabelsPath = options.Labels,
        Quantities = Quantities,
        DrawsPerInput = 1,
        Inputs = inputs,
        Shards = options.Shards,
        Grouping = SpecNames.Groupings.Parse(grouping),
        BatchSize = options.Batch,
        Seed = Seed,
        Precision = ComputeDType.Float32,
    };
}
