using System.Diagnostics;
using System.Globalization;
using Fisher.Calibration;

// The calibration suite (issue 16): coverage of the reported 90/95/99 % intervals over many jobs, as Markdown on stdout
// (docs/calibration.md is this output); progress on stderr. Exit code 1 when a pooled coverage is outside its band.
// Usage: Fisher.Calibration [--reduced] [--repetitions R] [--stopping-jobs J] [--seed S]
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("Fisher.Calibration [--reduced] [--repetitions R (default 100)] [--stopping-jobs J (default 40, reduced 10)] [--seed S (default 1)]: coverage of the reported intervals and the --target-rel-error rule's realised errors, as Markdown.");
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
Console.WriteLine(failures.Count == 0 ? "Every pooled coverage is inside its band.\n" : "Outside the band:\n\n" + string.Join("\n", failures.Select(f => "- " + f)) + "\n");

// The --target-rel-error rule: jobs stopped by it, and how often their realised error exceeds ε.
int stoppingJobs = Option("--stopping-jobs", reduced ? 10 : 40);
var stopping = new List<StoppingResult>();
foreach (var c in StoppingRule.Cases(reduced, stoppingJobs))
{
    stopping.Add(StoppingRule.Run(c, seed));
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"stopping {c.Name}: {clock.Elapsed.TotalSeconds:F0} s"));
}
Console.WriteLine(StoppingRule.Header(stoppingJobs));
Console.WriteLine(StoppingRule.Table(stopping));
var broken = stopping.Where(r => r.Stopped > 0 && (r.ExceededShare > r.Case.Delta || (double)r.JobsExceeding / r.Stopped > r.Case.Delta)).ToArray();
Console.WriteLine(broken.Length == 0 ? "In every case the share of stopped jobs whose realised error exceeds ε is at most δ."
    : "Cases where the rule broke its promise: " + string.Join(", ", broken.Select(r => r.Case.Name)) + ".");
return failures.Count == 0 && broken.Length == 0 && results.All(r => r.DeterministicMismatches == 0) ? 0 : 1;

int Option(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var value) && value > 0 ? value : fallback;
}
