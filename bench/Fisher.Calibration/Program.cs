using System.Diagnostics;
using System.Globalization;
using Fisher.Calibration;

// The calibration suite (issue 16): coverage of the reported 90/95/99 % intervals over many jobs, as Markdown on stdout
// (docs/calibration.md is this output); progress on stderr. Exit code 1 when a pooled coverage is outside its band.
// Usage: Fisher.Calibration [--reduced] [--repetitions R] [--seed S]
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("Fisher.Calibration [--reduced] [--repetitions R (default 100)] [--seed S (default 1)]: coverage of the reported intervals, as Markdown.");
    return 0;
}
bool reduced = args.Contains("--reduced");
int repetitions = Option("--repetitions", 100);
int seed = Option("--seed", 1);
Fisher.Estimators.TorchRuntime.Configure(Math.Max(1, Environment.ProcessorCount));
var cases = reduced ? Suite.Reduced(repetitions) : Suite.Full(repetitions);
var results = new List<CaseResult>();
var clock = Stopwatch.StartNew();
foreach (var c in cases)
{
    results.Add(CalibrationRunner.Run(c, seed));
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{results.Count}/{cases.Count} {c.Name}: {clock.Elapsed.TotalSeconds:F0} s"));
}
var pooled = Suite.Pool(results);
Console.WriteLine(Suite.Header(reduced, repetitions, seed, cases.Count));
Console.WriteLine(Suite.Table(pooled));
Console.WriteLine(Suite.Ranges(pooled) + "\n");
Console.WriteLine("### 95 % intervals per case\n");
Console.WriteLine(Suite.CaseTable(results));
var failures = Suite.Failures(pooled);
Console.WriteLine(failures.Count == 0 ? "Every pooled coverage is inside its band." : "Outside the band:\n\n" + string.Join("\n", failures.Select(f => "- " + f)));
return failures.Count == 0 && results.All(r => r.DeterministicMismatches == 0) ? 0 : 1;

int Option(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}
