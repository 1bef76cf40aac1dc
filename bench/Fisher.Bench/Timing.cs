using System.Diagnostics;

namespace Fisher.Bench;

/// <summary>The benchmark's timing rules (warm-up, alternating rounds against the baseline, peak RSS) and its table rows.</summary>
internal static class Timing
{
    public static void Row(string network, string name, int batch, double seconds, double baselineSeconds, double ratio, double memory) =>
        Console.WriteLine($"| {network} | {name} | {batch / seconds,10:N0} | {seconds * 1000:0.00} | {baselineSeconds * 1000:0.00} | {ratio:0.00} | {memory:N0} |");

    /// <summary>Seconds per call (median of timed rounds) and peak RSS while running.</summary>
    public static (double Seconds, double PeakMegabytes) Measure(BenchOptions options, Action action)
    {
        for (int i = 0; i < 3; i++)
            action();
        GC.Collect();
        PeakMemory.Reset();
        var rounds = new List<double>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < options.SecondsPerCase || rounds.Count < 5)
        {
            var sw = Stopwatch.StartNew();
            action();
            rounds.Add(sw.Elapsed.TotalSeconds);
        }
        rounds.Sort();
        return (rounds[rounds.Count / 2], PeakMemory.PeakMegabytes());
    }

    /// <summary>
    /// Seconds per call of <paramref name="action"/> and its time ratio to <paramref name="baseline"/>, timed in
    /// alternating rounds of about 0.2 s each (each round starts with one untimed call, so both run with warm caches)
    /// so that a machine whose speed drifts during the run (a shared VM) slows both alike: the ratio is the median
    /// over rounds of the ratio of the two rounds' median call times. Peak RSS while running.
    /// </summary>
    public static (double Seconds, double BaselineSeconds, double Ratio, double PeakMegabytes) MeasureAgainst(BenchOptions options, Action action, Action baseline)
    {
        for (int i = 0; i < 3; i++)
        {
            action();
            baseline();
        }
        GC.Collect();
        PeakMemory.Reset();
        static double Round(Action call)
        {
            call(); // untimed: warms the caches after the other case
            var times = new List<double>();
            var round = Stopwatch.StartNew();
            while (round.Elapsed.TotalSeconds < 0.2 || times.Count < 3)
            {
                var sw = Stopwatch.StartNew();
                call();
                times.Add(sw.Elapsed.TotalSeconds);
            }
            times.Sort();
            return times[times.Count / 2];
        }
        var seconds = new List<double>();
        var references = new List<double>();
        var ratios = new List<double>();
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < options.SecondsPerCase || seconds.Count < 5)
        {
            double reference = Round(baseline);
            double elapsed = Round(action);
            seconds.Add(elapsed);
            references.Add(reference);
            ratios.Add(elapsed / reference);
        }
        if (Environment.GetEnvironmentVariable("BENCH_DEBUG") is not null)
            Console.WriteLine("rounds: " + string.Join(" ", seconds.Zip(ratios, (x, r) => $"{x * 1000:F1}ms/{x / r * 1000:F2}ms")));
        seconds.Sort();
        references.Sort();
        ratios.Sort();
        return (seconds[seconds.Count / 2], references[references.Count / 2], ratios[ratios.Count / 2], PeakMemory.PeakMegabytes());
    }
}
