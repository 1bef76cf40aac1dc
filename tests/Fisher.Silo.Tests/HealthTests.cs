using System.Net;
using System.Runtime.InteropServices;
using Fisher.EndToEnd.Tests;

namespace Fisher.Silo.Tests;

/// <summary>/health/* of a Fisher.Silo while it starts, runs and stops (src/Fisher.Silo/README.md).</summary>
public sealed class HealthTests
{
    /// <summary>
    /// The silo uses Redis membership on a port where Redis is not running yet, so it stays in its start: live 200,
    /// startup 503, ready 503. Then Redis starts (the test's own redis-server on that port), the silo joins: all 200,
    /// /metrics serves. On SIGTERM ready turns 503 during the drain delay while live stays 200, then the process exits.
    /// </summary>
    [Fact]
    public async Task Health_endpoints_follow_the_silo_from_starting_to_running_to_stopping()
    {
        Requirements.Program("redis-server", "redis-server"); // fail now, not after the silo has waited for Redis
        var ports = TestProcess.FreePorts(4);
        int http = ports[0], redisPort = ports[3];
        var drain = TestTimeouts.Of(TimeSpan.FromSeconds(3));
        using var silo = TestProcess.Start(TestProcess.SiloPath,
        [
            $"--Fisher:Http:Address=127.0.0.1:{http}",
            $"--Fisher:Redis=127.0.0.1:{redisPort}",
            "--Fisher:Tls:Disabled=true", // TLS is not what this test is about (SecurityTests)
            $"--Fisher:SiloPort={ports[1]}",
            $"--Fisher:GatewayPort={ports[2]}",
            $"--Fisher:Health:DrainDelay={drain:c}",
            "--Logging:LogLevel:Microsoft.AspNetCore=Warning",
        ]);
        RedisServer? redis = null;
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}/"), Timeout = TestTimeouts.Request };
        try
        {
            // Starting: the HTTP server is up before the silo has joined.
            await MonitoredSilo.Until(async () => await Status(client, "health/live") == HttpStatusCode.OK, TestTimeouts.Startup, "/health/live");
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal(HttpStatusCode.OK, await Status(client, "health/live"));
                Assert.Equal(HttpStatusCode.ServiceUnavailable, await Status(client, "health/startup"));
                Assert.Equal(HttpStatusCode.ServiceUnavailable, await Status(client, "health/ready"));
                await Task.Delay(200);
            }

            // Running: Redis appears, the silo finishes its start and is Active.
            redis = RedisServer.Start(redisPort);
            await MonitoredSilo.Until(async () => await Status(client, "health/ready") == HttpStatusCode.OK, TestTimeouts.Startup, "/health/ready 200 after Redis started");
            Assert.Equal(HttpStatusCode.OK, await Status(client, "health/startup"));
            Assert.Equal(HttpStatusCode.OK, await Status(client, "health/live"));
            var metrics = await client.GetStringAsync("metrics");
            Assert.Contains("orleans_", metrics, StringComparison.Ordinal);
            Assert.Contains("fisher_job_active", metrics, StringComparison.Ordinal);

            // Stopping: ready 503 (live still 200) during the drain delay, then the process ends.
            Assert.Equal(0, Kill(silo.Id, 15)); // SIGTERM: the host stops gracefully
            HttpStatusCode? ready = HttpStatusCode.OK;
            await MonitoredSilo.Until(async () => (ready = await Status(client, "health/ready")) != HttpStatusCode.OK, TestTimeouts.Settle, "/health/ready to change after SIGTERM");
            Assert.True(ready == HttpStatusCode.ServiceUnavailable, $"/health/ready after SIGTERM: {(ready is null ? "no answer" : ready)}, expected 503 during the {drain.TotalSeconds:0.#} s drain delay");
            Assert.Equal(HttpStatusCode.OK, await Status(client, "health/live"));
            await silo.WaitForExit(TestTimeouts.Stop);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or Xunit.Sdk.XunitException)
        {
            Assert.Fail($"{e.Message}\n{silo.Describe(30)}");
        }
        finally
        {
            redis?.Dispose();
        }
    }

    /// <summary>
    /// /health/ready reads this silo's row of the Redis membership table (MembershipProbe): ready 200 with Redis up,
    /// 503 naming the membership store once Redis is gone (live stays 200), and still 503 after Redis comes back
    /// empty (the row was lost with Redis' data), although the silo itself still thinks it is Active.
    /// </summary>
    [Fact]
    public async Task Ready_is_503_while_Redis_is_down_and_after_it_restarts_without_the_membership()
    {
        var ports = TestProcess.FreePorts(3);
        var redis = RedisServer.Start();
        using var silo = TestProcess.Start(TestProcess.SiloPath,
        [
            $"--Fisher:Http:Address=127.0.0.1:{ports[0]}",
            $"--Fisher:Redis={redis.Connection}",
            "--Fisher:Tls:Disabled=true", // TLS is not what this test is about (SecurityTests)
            $"--Fisher:SiloPort={ports[1]}",
            $"--Fisher:GatewayPort={ports[2]}",
            "--Logging:LogLevel:Microsoft.AspNetCore=Warning",
        ]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{ports[0]}/"), Timeout = TestTimeouts.Request };
        try
        {
            await MonitoredSilo.Until(async () => await Status(client, "health/ready") == HttpStatusCode.OK, TestTimeouts.Startup, "/health/ready 200");
            int port = redis.Port;
            redis.Dispose();
            await MonitoredSilo.Until(async () => await Status(client, "health/ready") == HttpStatusCode.ServiceUnavailable, TestTimeouts.Settle, "/health/ready 503 with Redis gone");
            Assert.Contains("membership store", await Text(client, "health/ready"), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, await Status(client, "health/live"));

            redis = RedisServer.Start(port); // back, but empty
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(6)) // three probe intervals
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, await Status(client, "health/ready"));
                await Task.Delay(500);
            }
            // Orleans' Redis table fails reading a table that is gone (or finds no row): either way the store is named.
            Assert.Contains("membership store", await Text(client, "health/ready"), StringComparison.Ordinal);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or Xunit.Sdk.XunitException)
        {
            Assert.Fail($"{e.Message}\n{silo.Describe(30)}");
        }
        finally
        {
            redis.Dispose();
        }
    }

    private static async Task<string> Text(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return await response.Content.ReadAsStringAsync();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private static async Task<HttpStatusCode?> Status(HttpClient client, string path)
    {
        try
        {
            using var response = await client.GetAsync(path);
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }
}
