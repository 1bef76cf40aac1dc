using Fisher.Contracts;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Fisher.Grains.Tests;

/// <summary>Kills a secondary silo of a test cluster while it hosts a running worker of a job.</summary>
internal static class SiloKiller
{
    /// <summary>Waits until a worker of <paramref name="job"/> runs on a secondary silo, then kills that silo.</summary>
    public static async Task KillOneRunningAWorkerAsync(TestCluster cluster, IFisherJobGrain job)
    {
        var management = cluster.GrainFactory.GetGrain<IManagementGrain>(0);
        SiloAddress? victim = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (victim is null)
        {
            Assert.True(clock.Elapsed < TestTimeouts.Settle, TestTimeouts.Exceeded(TestTimeouts.Settle, "a worker to run on a secondary silo"));
            var status = await job.GetStatusAsync();
            var stats = await management.GetSimpleGrainStatistics();
            Assert.False(status.IsFinished, $"the job ended ({status.State}{(status.Error is null ? "" : ": " + status.Error)}) before a silo could be killed; make it longer. Seen: " + string.Join(", ", stats.Select(s => $"{s.GrainType}@{s.SiloAddress}x{s.ActivationCount}")));
            var secondaries = cluster.SecondarySilos.Select(s => s.SiloAddress).ToHashSet();
            victim = stats.Where(s => s.GrainType.Contains(nameof(ShardWorkerGrain), StringComparison.Ordinal) && s.ActivationCount > 0)
                .Select(s => s.SiloAddress).FirstOrDefault(secondaries.Contains);
            if (victim is null || status.TasksRunning == 0)
            {
                victim = null;
                await Task.Delay(50);
            }
        }
        await cluster.KillSiloAsync(cluster.SecondarySilos.First(s => s.SiloAddress.Equals(victim)));
    }
}
