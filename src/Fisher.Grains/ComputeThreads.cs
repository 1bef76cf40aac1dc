using System.Collections.Concurrent;

namespace Fisher.Grains;

/// <summary>
/// A fixed set of dedicated threads (<see cref="FisherOptions.ComputeThreadCount"/>, one per core by default) that runs
/// all tensor work of a silo. Grain turns stay free, the thread pool stays free for Orleans' networking, and native
/// memory is allocated and freed by the same few threads: with thread-pool threads, each slice of a task could land on
/// a different thread and its tensors were spread over many glibc arenas, which let a silo's resident size creep up
/// over long jobs. One instance per silo (a singleton registered by <see cref="FisherHosting.AddFisherGrains"/>).
/// </summary>
internal sealed class ComputeThreads : IDisposable
{
    private readonly BlockingCollection<Action> _queue = [];
    private readonly int _count;
    private int _started;

    /// <summary>Threads are started on the first <see cref="Run{T}"/>.</summary>
    public ComputeThreads(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _count = count;
    }

    /// <summary>Threads that run tensor work.</summary>
    public int Count => _count;

    /// <summary>Runs <paramref name="work"/> on a compute thread and completes with its result or exception.</summary>
    public Task<T> Run<T>(Func<T> work, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(work);
        Start();
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queue.Add(() =>
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

    /// <summary>
    /// Lets the threads finish the queued work and end. The collection itself is not disposed: a thread may still be
    /// inside its consuming enumerator.
    /// </summary>
    public void Dispose() => _queue.CompleteAdding();

    private void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) == 1)
            return;
        for (int i = 0; i < _count; i++)
        {
            new Thread(() =>
            {
                foreach (var action in _queue.GetConsumingEnumerable())
                    action();
            })
            {
                IsBackground = true,
                Name = $"fisher-compute-{i}",
            }.Start();
        }
    }
}
