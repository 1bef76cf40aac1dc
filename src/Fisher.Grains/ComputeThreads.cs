using System.Collections.Concurrent;

namespace Fisher.Grains;

/// <summary>
/// A fixed set of dedicated threads (one per core by default) that runs all tensor work of a silo. Grain turns stay
/// free, the thread pool stays free for Orleans' networking, and native memory is allocated and freed by the same
/// few threads: with thread-pool threads, each slice of a task could land on a different thread and its tensors
/// were spread over many glibc arenas, which let a silo's resident size creep up over long jobs.
/// </summary>
public static class ComputeThreads
{
    private static readonly BlockingCollection<Action> Queue = [];
    private static int _started;

    /// <summary>Threads that run tensor work (set before the first job; default: the processor count).</summary>
    public static int Count { get; set; } = Environment.ProcessorCount;

    /// <summary>Runs <paramref name="work"/> on a compute thread and completes with its result or exception.</summary>
    public static Task<T> Run<T>(Func<T> work, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        Start();
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Queue.Add(() =>
        {
            if (cancellation.IsCancellationRequested)
            {
                done.TrySetCanceled(cancellation);
                return;
            }
            try
            {
                done.TrySetResult(work());
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        }, CancellationToken.None);
        return done.Task;
    }

    private static void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) == 1)
            return;
        for (int i = 0; i < Math.Max(1, Count); i++)
        {
            new Thread(() =>
            {
                foreach (var action in Queue.GetConsumingEnumerable())
                    action();
            })
            {
                IsBackground = true,
                Name = $"fisher-compute-{i}",
            }.Start();
        }
    }
}
