// The Orleans silo host (localhost or Redis clustering, /metrics, /health/*) is built in issue 3; until then this
// entry point only says so, so that nobody mistakes it for a running silo.
Console.Error.WriteLine("Fisher.Silo: the silo host is not built yet (issue 3). Use the estimator core in src/Fisher.Estimators and bench/.");
return 2;
