namespace Fisher.Bench;

/// <summary>Command-line options of the benchmark.</summary>
internal sealed record BenchOptions(int Batch, int Threads, double SecondsPerCase, bool Quick, string? Only)
{
    public static BenchOptions? Parse(string[] args)
    {
        int batch = 256, threads = Environment.ProcessorCount;
        double seconds = 3;
        bool quick = false;
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
                case "-h" or "--help":
                    Console.WriteLine("""
                        Fisher.Bench: samples/s and peak memory of the estimator core, float32, categorical output (C = 10).
                          --batch N     inputs per batch (default 256)
                          --threads N   torch threads (default: processor count)
                          --seconds S   measured seconds per case (default 3)
                          --quick       0.5 s per case, for a smoke run
                          --only TEXT   run only the rows whose "network | case |" contains TEXT (e.g. "784-256-256-10 relu | all quantities |")
                        Ratios are medians over alternating warm rounds of the case and the baseline; BENCH_DEBUG=1 prints every round.
                        """);
                    return null;
                default:
                    Console.Error.WriteLine($"unknown option '{args[i]}'; see --help");
                    return null;
            }
        }
        return new BenchOptions(batch, threads, seconds, quick, only);
    }
}
