using System.Globalization;

namespace Fisher.Bench.Distributed;

/// <summary>Command-line options. The parent runs every case in a fresh child process (<c>--child CASE</c>).</summary>
internal sealed record Options
{
    public long Inputs { get; init; } = 60_000;
    public long MemoryInputs { get; init; } = 6_000;
    public long? WarmInputs { get; init; }
    public int Batch { get; init; } = 256;
    public int Shards { get; init; } = 2 * Environment.ProcessorCount;
    public bool Quick { get; init; }
    public bool Breakdown { get; init; } = true;
    public int Pairs { get; init; } = 3;
    public string? Child { get; init; }
    public string? Only { get; init; }
    public bool Trace { get; init; }
    public string? Folder { get; init; }
    public string Images { get; init; } = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
    public string Labels { get; init; } = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz";

    public static Options? Parse(string[] args)
    {
        var o = new Options();
        bool inputsSet = false, memorySet = false, pairsSet = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]}: value missing");
            switch (args[i])
            {
                case "--inputs": o = o with { Inputs = long.Parse(Next(), CultureInfo.InvariantCulture) }; inputsSet = true; break;
                case "--memory-inputs": o = o with { MemoryInputs = long.Parse(Next(), CultureInfo.InvariantCulture) }; memorySet = true; break;
                case "--warm-inputs": o = o with { WarmInputs = long.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--batch": o = o with { Batch = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--shards": o = o with { Shards = int.Parse(Next(), CultureInfo.InvariantCulture) }; break;
                case "--images": o = o with { Images = Next() }; break;
                case "--labels": o = o with { Labels = Next() }; break;
                case "--quick": o = o with { Quick = true }; break;
                case "--no-breakdown": o = o with { Breakdown = false }; break;
                case "--pairs": o = o with { Pairs = int.Parse(Next(), CultureInfo.InvariantCulture) }; pairsSet = true; break;
                case "--only": o = o with { Only = Next() }; break;
                case "--trace": o = o with { Trace = true }; break;
                case "--child": o = o with { Child = Next() }; break;
                case "--folder": o = o with { Folder = Next() }; break;
                case "-h" or "--help":
                    Console.WriteLine("""
                        Fisher.Bench.Distributed: the cost of distribution. The same Fisher job (MLP 784-256-256-10 tanh, all
                        estimators, K = 1, float32, Fashion-MNIST training set) through the grains on an embedded silo versus a
                        direct library loop on 1 and on 2 threads; peak RSS of each case (each runs in a fresh process).
                          --inputs N          inputs of the timed cases (default 60000, the full training set)
                          --memory-inputs N   inputs of the second grains run whose peak RSS is compared (default 6000)
                          --warm-inputs N     inputs of the untimed first run of every case, followed by a 1 s pause (default:
                                              the timed inputs; shorter runs leave the tiered JIT recompiling hot methods
                                              during the timed run: 4,146 methods and 1.5 CPU-s of a 5.7 s grains job after
                                              a 4,096-input warm-up; a long-lived silo pays that once)
                          --batch N           inputs per batch, grains and direct alike (default 256)
                          --shards N          data shards of the grains job (default 2 x cores)
                          --quick             6000 and 600 inputs: a smoke run under a minute
                          --only TEXT         run only the cases whose id contains TEXT (direct-1, direct-2, workers-no-orleans,
                                              grains-all, grains-all-again, grains-layer)
                          --trace             grains cases print the job's progress as polled (to stderr)
                          --no-breakdown      skip the single-thread cost breakdown (data read, model load, tensor creation)
                          --pairs N           then time the direct loop (2 threads) and the grains job in N alternating pairs of
                                              fresh processes and print each ratio and the median (default 3; 0: none)
                          --images/--labels   IDX files (default: /usr/share/datasets/fashion-mnist/train-*)
                        """);
                    return null;
                default:
                    Console.Error.WriteLine($"unknown option '{args[i]}'; see --help");
                    return null;
            }
        }
        if (o.Quick)
            o = o with { Inputs = inputsSet ? o.Inputs : 6_000, MemoryInputs = memorySet ? o.MemoryInputs : 600, Pairs = pairsSet ? o.Pairs : 1 };
        if (o.Inputs < 1 || o.MemoryInputs < 1 || o.Batch < 1 || o.Shards < 1 || o.WarmInputs < 1 || o.Pairs < 0)
        {
            Console.Error.WriteLine("--inputs, --memory-inputs, --warm-inputs, --batch and --shards must be positive");
            return null;
        }
        return o;
    }

    /// <summary>The options a child needs to run one case.</summary>
    public IEnumerable<string> ChildArguments(string caseName, long inputs, string folder) =>
    [
        "--child", caseName, "--folder", folder,
        "--inputs", inputs.ToString(CultureInfo.InvariantCulture),
        "--batch", Batch.ToString(CultureInfo.InvariantCulture),
        .. WarmInputs is { } warm ? ["--warm-inputs", warm.ToString(CultureInfo.InvariantCulture)] : Array.Empty<string>(),
        "--shards", Shards.ToString(CultureInfo.InvariantCulture),
        "--images", Images, "--labels", Labels,
        .. Trace ? ["--trace"] : Array.Empty<string>(),
    ];
}
