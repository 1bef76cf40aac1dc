namespace Fisher.Estimators.Tests;

/// <summary>Configures the process once for the tests: one torch thread (xunit runs classes in parallel).</summary>
internal static class TorchRuntime
{
    public static void Ensure() => Fisher.Estimators.TorchRuntime.Configure(1);
}
