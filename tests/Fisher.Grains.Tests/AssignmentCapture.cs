using System.Collections.Concurrent;
using Fisher.Contracts;

namespace Fisher.Grains.Tests;

/// <summary>
/// Sees what an eavesdropper on the cluster's traffic would see (the test silos run in this process): the assignments
/// shard workers receive and the chunks aggregators receive, of jobs whose id starts with <see cref="Prefix"/>. Tests
/// use them to forge partials under a real lease and to replay real partials.
/// </summary>
internal static class AssignmentCapture
{
    public const string Prefix = "capture-";

    private static readonly ConcurrentQueue<TaskAssignment> Received = new();
    private static readonly ConcurrentQueue<(string Aggregator, PartialChunk Chunk)> Sent = new();

    /// <summary>Adds the capturing call filter to a silo.</summary>
    public static void AddTo(ISiloBuilder silo) => silo.AddIncomingGrainCallFilter(async context =>
    {
        if (context.Request.GetArgumentCount() > 0)
        {
            switch (context.Request.GetArgument(0))
            {
                case TaskAssignment a when a.JobId.StartsWith(Prefix, StringComparison.Ordinal):
                    Received.Enqueue(a);
                    break;
                case PartialChunk c when context.TargetId.Key.ToString()!.StartsWith(Prefix, StringComparison.Ordinal):
                    Sent.Enqueue((context.TargetId.Key.ToString()!, c));
                    break;
            }
        }
        await context.Invoke();
    });

    /// <summary>The assignments of (task, attempt) of a job its worker received so far (from anyone), in order.</summary>
    public static TaskAssignment[] Assignments(string jobId, string taskId, int attempt) =>
        Received.Where(a => a.JobId == jobId && a.TaskId == taskId && a.Attempt == attempt).ToArray();

    /// <summary>Every chunk of (task, attempt) of a job its aggregators received (from anyone), in order.</summary>
    public static PartialChunk[] Chunks(string jobId, string taskId, int attempt) =>
        Sent.Where(c => c.Aggregator.StartsWith(jobId + "/", StringComparison.Ordinal) && c.Chunk.TaskId == taskId && c.Chunk.Attempt == attempt)
            .Select(c => c.Chunk).ToArray();
}
