using Fisher.EndToEnd.Tests;

namespace Fisher.Silo.Tests;

/// <summary>Fisher.Silo checks its settings when it starts (FisherOptionsValidator, SiloHealthOptionsValidator).</summary>
public sealed class SettingsTests
{
    [Fact]
    public async Task Bad_settings_stop_the_silo_at_start_and_each_is_named()
    {
        var ports = TestProcess.FreePorts(3);
        var result = await TestProcess.Run(TestProcess.SiloPath,
        [
            $"--Fisher:Http:Address=127.0.0.1:{ports[0]}",
            $"--Fisher:SiloPort={ports[1]}",
            $"--Fisher:GatewayPort={ports[2]}",
            "--Fisher:Grains:TasksPerSilo=0",
            "--Fisher:Grains:TorchThreads=0",
            "--Fisher:Health:DrainDelay=-00:00:01",
            "--Fisher:Health:ShutdownTimeout=00:00:00",
            "--Fisher:Grains:HandBackTimeout=00:00:00",
            "--Fisher:Grains:DataRoots:0=relative/data",
            "--Fisher:Grains:DataRoots:1=/no/such/fisher/root",
            "--Fisher:Grains:MemoryBudget=1000",
        ], TestTimeouts.Startup);
        Assert.True(result.ExitCode != 0, $"expected a failed start\n{result.Describe()}");
        var output = result.Stdout + result.Stderr;
        Assert.Contains("Fisher:Grains:TasksPerSilo must be at least 1, got 0", output, StringComparison.Ordinal);
        Assert.Contains("Fisher:Grains:TorchThreads must be at least 1, got 0", output, StringComparison.Ordinal);
        Assert.Contains("Fisher:Health:DrainDelay must not be negative, got -00:00:01", output, StringComparison.Ordinal);
        Assert.Contains("Fisher:Health:ShutdownTimeout must be positive and longer than Fisher:Health:DrainDelay (-00:00:01), got 00:00:00", output, StringComparison.Ordinal);
        Assert.Contains("Fisher:Grains:HandBackTimeout must be positive, got 00:00:00", output, StringComparison.Ordinal);
        Assert.Contains("Fisher:Grains:DataRoots: data root 'relative/data' is not an absolute path", output, StringComparison.Ordinal);
        Assert.Contains("Fisher:Grains:DataRoots: data root '/no/such/fisher/root' is not an existing folder", output, StringComparison.Ordinal);
        Assert.Contains("Fisher:Grains:MemoryBudget must be at least 1048576 bytes (1 MiB), got 1000", output, StringComparison.Ordinal);
    }
}
