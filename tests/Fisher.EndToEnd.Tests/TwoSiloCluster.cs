using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Fisher.EndToEnd.Tests;

/// <summary>One Fisher.Silo process of the fixture.</summary>
public sealed record SiloProcess(TestProcess Process, int HttpPort, int SiloPort, int GatewayPort);

/// <summary>
/// Two Fisher.Silo processes with Redis membership in a Redis database of their own (an empty one of 1..15 when
/// there is one), so a concurrent run or a developer's silos in database 0 never join this cluster. Silos log
/// grain activations (Orleans.Grain at Debug) so tests can see which silo ran which task.
/// </summary>
public sealed class TwoSiloCluster : IAsyncLifetime
{
    private const string MembershipKey = "fisher/members/fisher";
    private readonly ConcurrentBag<string> _jobs = [];

    public int Database { get; private set; }

    /// <summary>The Redis connection string the silos use; clients pass it as --cluster.</summary>
    public string Connection => string.Create(CultureInfo.InvariantCulture, $"{RedisProbe.Host}:{RedisProbe.Port},defaultDatabase={Database}");

    /// <summary>A prefix unique to this run for job ids (their Redis state is deleted at the end).</summary>
    public string JobPrefix { get; } = $"e2e-{Guid.NewGuid().ToString("N")[..8]}";

    public IReadOnlyList<SiloProcess> Silos { get; private set; } = [];

    public DirectoryInfo Scratch { get; } = Directory.CreateTempSubdirectory("fisher-e2e-cluster-");

    /// <summary>Logs of both silos (tails), for assertion messages.</summary>
    public string Logs(int lines = 30) => string.Join("\n", Silos.Select((s, i) => $"===== silo {i} (gateway {s.GatewayPort}) =====\n{s.Process.Describe(lines)}"));

    /// <summary>Remembers a job id whose grain state is deleted from Redis at the end.</summary>
    public string Job(string id)
    {
        _jobs.Add(id);
        return id;
    }

    public async Task InitializeAsync()
    {
        using (var redis = new RedisProbe(0))
        {
            var empty = new List<int>();
            for (int db = 1; db <= 15; db++)
            {
                redis.Command("SELECT", db.ToString(CultureInfo.InvariantCulture));
                if ((long)redis.Command("DBSIZE")! == 0)
                    empty.Add(db);
            }
            Database = empty.Count > 0 ? empty[Random.Shared.Next(empty.Count)] : Random.Shared.Next(1, 16);
        }
        var ports = TestProcess.FreePorts(6);
        var silos = new List<SiloProcess>();
        try
        {
            for (int i = 0; i < 2; i++)
            {
                int http = ports[3 * i], silo = ports[3 * i + 1], gateway = ports[3 * i + 2];
                var process = TestProcess.Start(TestProcess.SiloPath,
                [
                    "--urls", $"http://127.0.0.1:{http}",
                    $"--Fisher:Redis={Connection}",
                    $"--Fisher:SiloPort={silo}",
                    $"--Fisher:GatewayPort={gateway}",
                    "--Logging:LogLevel:Orleans.Grain=Debug",
                    "--Logging:Console:FormatterName=simple",
                    "--Logging:Console:FormatterOptions:SingleLine=true",
                ]);
                silos.Add(new SiloProcess(process, http, silo, gateway));
            }
        }
        finally
        {
            Silos = silos; // disposed in DisposeAsync even if a later start fails
        }
        try
        {
            await WaitUntilServing(TimeSpan.FromSeconds(90));
        }
        catch
        {
            foreach (var s in Silos)
                s.Process.Kill();
            throw;
        }
    }

    private async Task WaitUntilServing(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var live = new bool[Silos.Count];
        string lastProblem = "";
        while (clock.Elapsed < timeout)
        {
            foreach (var s in Silos)
            {
                if (s.Process.HasExited)
                    throw new InvalidOperationException($"a silo exited while starting:\n{Logs(60)}");
            }
            for (int i = 0; i < Silos.Count; i++)
            {
                if (live[i])
                    continue;
                try
                {
                    var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{Silos[i].HttpPort}/health/live"));
                    live[i] = text.Trim() == "live";
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    lastProblem = $"silo {i} /health/live: {e.Message}";
                }
            }
            if (live.All(l => l))
            {
                var active = ActiveSiloPorts();
                if (Silos.All(s => active.Contains(s.SiloPort)))
                {
                    // Both rows say Active; give the first silo a moment to see the second through gossip.
                    await Task.Delay(TimeSpan.FromSeconds(2));
                    return;
                }
                lastProblem = $"active silo ports in Redis db {Database} {MembershipKey}: [{string.Join(", ", active)}]";
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"the silos were not both live and Active in the membership table after {timeout} ({lastProblem}):\n{Logs(60)}");
    }

    /// <summary>Silo ports of the rows of the Redis membership table whose status is Active (3).</summary>
    public IReadOnlySet<int> ActiveSiloPorts()
    {
        using var redis = new RedisProbe(Database);
        var result = new HashSet<int>();
        foreach (var (field, value) in redis.HashGetAll(MembershipKey))
        {
            if (field == "Version")
                continue;
            using var row = JsonDocument.Parse(value);
            var address = row.RootElement.GetProperty("SiloAddress").GetProperty("SiloAddress").GetString() ?? "";
            if (row.RootElement.GetProperty("Status").GetInt32() == 3 && address.StartsWith("127.0.0.1:", StringComparison.Ordinal))
                result.Add(int.Parse(address["127.0.0.1:".Length..address.IndexOf('@', StringComparison.Ordinal)], CultureInfo.InvariantCulture));
        }
        return result;
    }

    /// <summary>How many shard-worker activations of a job each silo logged.</summary>
    public int[] WorkerActivations(string jobId) =>
        Silos.Select(s => s.Process.Stdout.Split('\n').Count(line =>
            line.Contains("Activating grain", StringComparison.Ordinal) &&
            line.Contains($"/shardworker/{jobId}/", StringComparison.Ordinal))).ToArray();

    public Task DisposeAsync()
    {
        // SIGTERM first, so each silo marks itself Dead in the membership table; killed if it does not stop.
        Parallel.ForEach(Silos, s => s.Process.Terminate(TimeSpan.FromSeconds(15)));
        foreach (var s in Silos)
            s.Process.Dispose();
        try
        {
            using var redis = new RedisProbe(Database);
            var ours = Silos.Select(s => string.Create(CultureInfo.InvariantCulture, $"S127.0.0.1:{s.SiloPort}:")).ToArray();
            foreach (var field in redis.HashGetAll(MembershipKey).Keys.Where(f => ours.Any(o => f.StartsWith(o, StringComparison.Ordinal))))
                redis.Command("HDEL", MembershipKey, field);
            // Drop the table when only its Version row is left (atomically: a silo joining meanwhile keeps it).
            redis.Command("EVAL", "if redis.call('HLEN', KEYS[1]) <= 1 then return redis.call('DEL', KEYS[1]) end return 0", "1", MembershipKey);
            foreach (var pattern in _jobs.Append(JobPrefix).Distinct())
            {
                foreach (var key in redis.Keys($"fisher/state/*/{pattern}*"))
                    redis.Command("DEL", key);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException)
        {
            // Cleaning up is best effort.
        }
        try
        {
            Scratch.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
        return Task.CompletedTask;
    }
}
