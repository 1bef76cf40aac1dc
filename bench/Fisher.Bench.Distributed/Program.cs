using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Fisher.Bench;
using Fisher.Bench.Distributed;
using Fisher.Estimators;

// The cost of distribution (issue 3): the same job through the grains on an embedded silo versus a direct library
// loop, and the peak RSS of a silo for two input counts. Prints Markdown tables; asserts nothing about time.
var options = Options.Parse(args);
if (options is null)
    return 2;
return options.Child is { } child ? await RunChild(options, child) : RunParent(options);

static async Task<int> RunChild(Options options, string name)
{
    TorchRuntime.Configure(1); // one torch thread per worker; parallelism across workers (as FisherOptions.TorchThreads)
    if (name == Cases.Breakdown)
    {
        foreach (var (label, seconds, note) in Breakdown.Run(options))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"BREAKDOWN\t{label}\t{seconds:R}\t{note}"));
        return 0;
    }
    long warm = Math.Min(options.Inputs, Math.Max(options.WarmInputs ?? options.Inputs, options.Shards));
    var result = await Cases.Run(name, options, warm, options.Inputs);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"RESULT\t{result.Seconds:R}\t{result.Inputs}\t{result.Groups}\t{PeakMemory.PeakMegabytes():R}\t{result.Note}\t{Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:R}"));
    return 0;
}

static int RunParent(Options options)
{
    var folder = Path.Combine(Path.GetTempPath(), $"fisher-bench-distributed-{Environment.ProcessId}");
    Workload.Write(folder);
    options = options with { Folder = folder };
    try
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"# Cost of distribution: MLP {string.Join("-", Workload.Widths)} tanh (random weights), estimators all (i1,i2,exact,empirical,v1,v2), K = 1, float32, batch {options.Batch}, {Environment.ProcessorCount} cores, 1 torch thread per worker, every case in a fresh process"));
        Console.WriteLine();
        Console.WriteLine($"Data: {options.Images} (first {options.Inputs:N0} rows). Grains: 1 embedded silo, memory storage, {options.Shards} shards, 2 tasks at a time.");
        Console.WriteLine();
        var rows = new List<(string Label, string Case, long Inputs)>
        {
            ("direct loop, 1 thread", Cases.Direct1, options.Inputs),
            ("direct loop, 2 threads (halves, merged)", Cases.Direct2, options.Inputs),
            ($"worker code without Orleans, 2 threads, {options.Shards} shards, grouping all", Cases.Workers, options.Inputs),
            ($"worker code without Orleans, thread-pool slices as the grain runs them, 2 at a time", Cases.WorkersPool, options.Inputs),
            ($"**grains, {options.Shards} shards, grouping all**", Cases.GrainsAll, options.Inputs),
            ($"grains, {options.Shards} shards, grouping all, again in a second process (the spread of single runs)", Cases.GrainsAllAgain, options.Inputs),
            ($"grains, {options.Shards} shards, grouping per layer (each input once per layer: 3x the work)", Cases.GrainsLayer, options.Inputs),
            ($"grains, {options.Shards} shards, grouping all (memory check)", Cases.GrainsAll, options.MemoryInputs),
        };
        var results = new List<(string Label, string Case, long Inputs, RunResult Result, double Rss, double Cpu)>();
        string loadBefore = LoadAverage();
        foreach (var (label, name, inputs) in rows.Where(r => options.Only is null || r.Case.Contains(options.Only, StringComparison.Ordinal)))
        {
            Console.Error.WriteLine($"running {label} on {inputs:N0} inputs ...");
            var (result, rss, cpu) = Child(options, name, inputs);
            if (result.Inputs != inputs)
                throw new InvalidOperationException($"{label}: merged {result.Inputs} inputs, expected {inputs}");
            results.Add((label, name, inputs, result, rss, cpu));
        }
        var direct = results.Where(r => r.Case is Cases.Direct1 or Cases.Direct2 && r.Inputs == options.Inputs).ToArray();
        double bestDirect = direct.Length > 0 ? direct.Min(r => r.Result.Seconds) : double.NaN;
        Console.WriteLine("| case | inputs | seconds | samples/s | ratio to best direct | peak RSS MB | process CPU s |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (label, name, inputs, result, rss, cpu) in results)
        {
            string ratio = inputs == options.Inputs ? (result.Seconds / bestDirect).ToString("0.00", CultureInfo.InvariantCulture) : "–";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {label} | {inputs:N0} | {result.Seconds:0.00} | {inputs / result.Seconds:N0} | {ratio} | {rss:N0} | {cpu:0.0} |"));
        }
        Console.WriteLine();
        Console.WriteLine("samples/s = inputs / wall seconds (per-layer grouping processes each input once per group). Ratio = seconds / best direct seconds (target ≤ 1.10 for grouping all).");
        Console.WriteLine("Peak RSS = VmHWM of the case's whole process (silo, client and workers for grains). Process CPU = user + system seconds of that process (start-up and warm-up included).");
        Console.WriteLine($"Load average (1, 5, 15 min) before: {loadBefore}; after: {LoadAverage()} (a 2-core machine: anything above ~0.5 means other processes shared the cores).");
        foreach (var (label, _, inputs, result, _, _) in results.Where(r => r.Result.Note.Length > 0))
            Console.WriteLine($"- {label} ({inputs:N0}): {result.Note}");
        if (options.Pairs > 0 && options.Only is null)
        {
            // Single processes on a shared machine scatter by ±5% or more (in one run the plain-thread worker code measured
            // 1.08 against the direct loop); alternating pairs give each comparison the same machine, and the median a stable figure.
            Console.WriteLine();
            Console.WriteLine($"## Grains against the direct loop in {options.Pairs} alternating pairs ({options.Inputs:N0} inputs, fresh processes)");
            Console.WriteLine();
            Console.WriteLine("| pair | direct loop, 2 threads (s) | grains, grouping all (s) | ratio |");
            Console.WriteLine("|---:|---:|---:|---:|");
            var ratios = new List<double>();
            for (int pair = 1; pair <= options.Pairs; pair++)
            {
                Console.Error.WriteLine($"running pair {pair} of {options.Pairs} ...");
                var d = Child(options, Cases.Direct2, options.Inputs).Result.Seconds;
                var g = Child(options, Cases.GrainsAll, options.Inputs).Result.Seconds;
                ratios.Add(g / d);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {pair} | {d:0.00} | {g:0.00} | {g / d:0.00} |"));
            }
            ratios.Sort();
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Median ratio {ratios[ratios.Count / 2]:0.00}, mean {ratios.Average():0.00}, range {ratios[0]:0.00}–{ratios[^1]:0.00} (target ≤ 1.10)."));
        }
        if (options.Breakdown)
        {
            Console.Error.WriteLine("running the breakdown ...");
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"## Where a worker's time goes (1 thread, {options.Inputs:N0} inputs, batch {options.Batch}, {options.Shards} shards)"));
            Console.WriteLine();
            Console.WriteLine("| step | seconds | note |");
            Console.WriteLine("|---|---:|---|");
            foreach (var line in ChildLines(options, Cases.Breakdown, options.Inputs).Where(l => l.StartsWith("BREAKDOWN\t", StringComparison.Ordinal)))
            {
                var f = line.Split('\t');
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {f[1]} | {double.Parse(f[2], CultureInfo.InvariantCulture):0.000} | {f[3]} |"));
            }
        }
        return 0;
    }
    finally
    {
        Directory.Delete(folder, recursive: true);
    }
}

static string LoadAverage()
{
    try
    {
        return string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
    }
    catch (IOException)
    {
        return "n/a";
    }
}

static (RunResult Result, double Rss, double Cpu) Child(Options options, string name, long inputs)
{
    var lines = ChildLines(options, name, inputs);
    var line = lines.LastOrDefault(l => l.StartsWith("RESULT\t", StringComparison.Ordinal))
        ?? throw new InvalidOperationException($"case {name}: the child printed no RESULT line");
    var f = line.Split('\t');
    double P(string s) => double.Parse(s, CultureInfo.InvariantCulture);
    return (new RunResult(P(f[1]), long.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3], CultureInfo.InvariantCulture), f[5]), P(f[4]), P(f[6]));
}

// Runs this program again with --child: a fresh process per case, so peak RSS and JIT state are the case's own.
static List<string> ChildLines(Options options, string name, long inputs)
{
    var self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
    var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };
    if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
    foreach (var a in options.ChildArguments(name, inputs, options.Folder!))
        start.ArgumentList.Add(a);
    using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {self}");
    var lines = new List<string>();
    while (process.StandardOutput.ReadLine() is { } line)
    {
        if (line.StartsWith("RESULT\t", StringComparison.Ordinal) || line.StartsWith("BREAKDOWN\t", StringComparison.Ordinal))
            lines.Add(line);
        else
            Console.Error.WriteLine($"  [{name}] {line}");
    }
    process.WaitForExit();
    if (process.ExitCode != 0)
        throw new InvalidOperationException($"case {name} on {inputs} inputs: child exited with {process.ExitCode}");
    return lines;
}
