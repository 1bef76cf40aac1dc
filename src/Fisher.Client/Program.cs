// The `fisher` CLI (estimate, submit, status, watch, fetch, cancel, report) is built in issue 3; until then this
// entry point only says so.
Console.Error.WriteLine("fisher: the CLI is not built yet (issue 3). Run the estimator benchmark instead: dotnet run -c Release --project bench/Fisher.Bench -- --quick");
return 2;
