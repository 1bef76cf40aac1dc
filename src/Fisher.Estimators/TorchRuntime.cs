using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// Process-wide native runtime settings (docs/stack-notes.md). <see cref="Configure"/> sets the torch thread count once
/// per process (idle OpenMP teams spin on small machines) and, on glibc, fixes the allocator's thresholds: by
/// default glibc serves blocks above a moving threshold (128 KB, raised whenever a large mmapped block is freed) by
/// mmap and returns the top of the heap above 128 KB at every free, so a batch's tensors (hundreds of KB to tens
/// of MB) were page-faulted in afresh, batch after batch, how often depending on the history of the process: 95,000
/// to 700,000 minor faults in the same 2-second benchmark, and up to twice the time per batch. With blocks up to
/// 32 MB from the heap and no automatic trimming the faults stay at the low end in every run.
/// <see cref="AfterBatch"/> returns freed heap memory to the system every 64 batches instead: without it the heap
/// fragments (a worker's RSS grew from 0.2 to 1.8 GB over 1,000 batches with a constant live tensor count).
/// </summary>
public static class TorchRuntime
{
    private const int BatchesPerTrim = 64;
    private static readonly Lock Gate = new();
    private static int? _threads;
    private static long _batches;
    private static bool _trimUnavailable = !OperatingSystem.IsLinux();

    /// <summary>Sets the torch thread count once per process; later calls are ignored.</summary>
    /// <returns>The thread count in force.</returns>
    public static int Configure(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        lock (Gate)
        {
            if (_threads is { } configured)
                return configured;
            set_num_threads(threads);
            ConfigureAllocator();
            _threads = threads;
            return threads;
        }
    }

    /// <summary>Counts a finished batch; every 64th returns freed native heap memory to the system (glibc only).</summary>
    public static void AfterBatch()
    {
        if (_trimUnavailable || Interlocked.Increment(ref _batches) % BatchesPerTrim != 0)
            return;
        try
        {
            _ = malloc_trim(0); // returns whether memory was released: either is fine
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _trimUnavailable = true; // not glibc
        }
    }

    private static void ConfigureAllocator()
    {
        if (_trimUnavailable)
            return;
        try
        {
            _ = mallopt(MmapThreshold, 32 << 20);   // glibc's maximum; fixing it also stops the dynamic raise
            _ = mallopt(TrimThreshold, 512 << 20);  // AfterBatch trims instead, every 64 batches
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _trimUnavailable = true; // not glibc
        }
    }

    private const int TrimThreshold = -1; // M_TRIM_THRESHOLD
    private const int MmapThreshold = -3; // M_MMAP_THRESHOLD

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int parameter, int value);

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);
}
