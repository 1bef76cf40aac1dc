using Fisher.Bench;

// Throughput and peak memory of the estimator core (issue 2, acceptance 6). Prints a Markdown table.
var options = BenchOptions.Parse(args);
if (options is null)
    return 2;
if (options.Phases)
{
    Fisher.Estimators.TorchRuntime.Configure(options.Threads);
    Fisher.Bench.CnnPhases.Run(options);
    return 0;
}
return EstimatorBenchmark.Run(options);
