using TorchSharp;

namespace Fisher.Estimators.Tests;

/// <summary>Sets torch threads once per test process (stack-notes.md: idle OpenMP teams spin on 2 cores).</summary>
internal static class TorchRuntime
{
    private static readonly Lazy<bool> Configured = new(() =>
    {
        torch.set_num_threads(1);
        return true;
    });

    public static void Ensure() => _ = Configured.Value;
}
