using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// Process-wide settings every host of the estimator applies once at start-up (stack-notes.md):
/// the torch thread count (idle OpenMP teams spin on small machines) and, on glibc, a fixed mmap threshold.
/// glibc raises its mmap threshold each time a large mmapped block is freed, after which the tensors of every
/// batch (hundreds of KB to MB) come from the heap and fragment it: a worker's RSS grew from 0.2 to 2 GB over
/// 1,000 batches with a constant live tensor count. A fixed threshold of 128 KiB keeps large tensors in mmap.
/// </summary>
public static class TorchRuntime
{
    private const int MallocMmapThreshold = -3; // M_MMAP_THRESHOLD in glibc's malloc.h
    private static readonly Lock Gate = new();
    private static int? _threads;

    /// <summary>Applies the settings once per process; later calls with another thread count are ignored.</summary>
    /// <returns>The thread count in force.</returns>
    public static int Configure(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        lock (Gate)
        {
            if (_threads is { } configured)
                return configured;
            FixMmapThreshold();
            set_num_threads(threads);
            _threads = threads;
            return threads;
        }
    }

    private static void FixMmapThreshold()
    {
        if (!OperatingSystem.IsLinux())
            return;
        try
        {
            mallopt(MallocMmapThreshold, 128 * 1024);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc: nothing to tune.
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);
}
