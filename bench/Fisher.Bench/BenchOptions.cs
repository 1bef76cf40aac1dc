namespace Fisher.Bench;

/// <summary>Command-line options of the benchmark.</summary>
internal sealed record BenchOptions(int Batch, int Threads, double SecondsPerCase, bool Quick, string? Only, double MaxBatchSeconds, bool Phases)
{
    /// <summary>Whether the row "network | case |" is selected by <c>--only</c>.</summary>
    public bool Selects(string network, string caseName) =>
        Only is null || $"{network} | {caseName} |".Contains(Only, StringComparison.OrdinalIgnoreCase);

    public static BenchOptions? Parse(string[] args)
    {
        int batch = 256, threads = Environment.ProcessorCount;
        double seconds = 3, maxBatch = 120;
        bool quick = false, phases = false;
        string? only = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--batch": batch = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--threads": threads = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = double.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                case "--quick": quick = true; seconds = 0.5; break;
                case "--only": only = args[++i]; break;
                case "--phases": phases = true; break;
                case "--max-batch-seconds": maxBatch = double.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture); break;
                case "-h" or "--help":
                    Console.WriteLine("""
                        Fisher.Bench: samples/s and peak memory of the estimator core, float32, categorical output (C = 10).
                          --batch N     inputs per batch (default 256)
                          --threads N   torch threads (default: processor count)
                          --seconds S   measured seconds per case (default 3)
                          --quick       0.5 s per case, for a smoke run
                          --max-batch-seconds S  a CNN case whose batch would take longer (Î2) is timed on fewer inputs, about S/2 s (default 120)
                          --phases      only the CNNs' per-phase breakdown of one batch (forward, backward pull, parameter rows, forms, Gram + merge)
                          --only TEXT   run only the rows whose "network | case |" contains TEXT (e.g. "784-256-256-10 relu | all quantities |" or "lenet")
                        Ratios are medians over alternating warm rounds of the case and the baseline; BENCH_DEBUG=1 prints every round.
                        """);
                    return null;
                default:
                    Console.Error.WriteLine($"unknown option '{args[i]}'; see --help");
                    return null;
            }
        }
        return new BenchOptions(batch, threads, seconds, quick, only, maxBatch, phases);
    }
}
