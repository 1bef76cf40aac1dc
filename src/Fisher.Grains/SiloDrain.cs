using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Fisher.Grains;

/// <summary>
/// A stopping silo's hand-back of its tasks (a Kubernetes scale-down or rolling update sends SIGTERM). When the host is
/// asked to stop, before Orleans stops, <see cref="Draining"/> turns true: each of this silo's workers hands its task
/// back to the job's coordinator at its next step (the lease ends at once, and the coordinator dispatches the task
/// again on another silo, avoiding this one), and a worker started here from now on hands its task back at its first
/// step. The stop waits until no worker holds a task, or for <see cref="FisherOptions.HandBackTimeout"/>; a worker still
/// holding one when Orleans deactivates it hands it back then. A worker that only ships its finished partial keeps it:
/// shipping is short, and its rows are done.
/// </summary>
internal sealed partial class SiloDrain(IOptions<FisherOptions> options, ILogger<SiloDrain> logger) : IHostedLifecycleService
{
    private readonly TaskCompletionSource _empty = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _draining;
    private int _held;

    /// <summary>The host is stopping: workers hand their tasks back instead of computing.</summary>
    public bool Draining => Volatile.Read(ref _draining) == 1;

    /// <summary>Task attempts this silo's workers hold now.</summary>
    public int Held => Volatile.Read(ref _held);

    /// <summary>A worker adopted a task attempt (paired with exactly one <see cref="Released"/>).</summary>
    public void Hold() => Interlocked.Increment(ref _held);

    /// <summary>A worker let go of its task attempt (completed, failed, stopped or handed back).</summary>
    public void Released()
    {
        // Both sides fence (Interlocked): a release racing the start of the drain is never missed by both.
        if (Interlocked.Decrement(ref _held) == 0 && Draining)
            _empty.TrySetResult();
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _draining, 1);
        int held = Held;
        if (held == 0)
            return;
        Log.Draining(logger, held);
        var timeout = options.Value.HandBackTimeout;
        try
        {
            await _empty.Task.WaitAsync(timeout, cancellationToken);
            Log.Drained(logger);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            Log.NotDrained(logger, Held, timeout);
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Stopping: handing {Tasks} task(s) back to their coordinators")]
        public static partial void Draining(ILogger logger, int tasks);

        [LoggerMessage(2, LogLevel.Information, "Stopping: every task handed back")]
        public static partial void Drained(ILogger logger);

        [LoggerMessage(3, LogLevel.Warning, "Stopping: {Tasks} task(s) still held after {Timeout} (Fisher:Grains:HandBackTimeout); their workers hand them back as the silo deactivates them")]
        public static partial void NotDrained(ILogger logger, int tasks, TimeSpan timeout);
    }
}
