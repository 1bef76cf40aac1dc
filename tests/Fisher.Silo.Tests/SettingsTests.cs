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
        ], TestTimeouts.Startup);
        Assert.True(result.ExitCode != 0, $"expected a failed start\n{result.Describe()}");
        var output = result.Stdout + result.Stderr;
        Assert.Contains("Fisher:Grains:TasksPerSilo must be at least 1, got 0", output, StringComparison.Ordinal);
        Assert.Contains("Fisher:Grains:TorchThreads must be at least 1, got 0", output, StringComparison.Ordinal);
        Assert.Contains("Fisher:Health:DrainDelay must not be negative, got -00:00:01", output, StringComparison.Ordinal);
    }
}
