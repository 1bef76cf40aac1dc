using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting;

namespace Fisher.Grains.Tests;

/// <summary>FisherOptionsValidator: one row per rule, every failure reported at once, and a silo that refuses to start.</summary>
public sealed class FisherOptionsValidatorTests
{
    private static readonly FisherOptionsValidator Validator = new();

    [Fact]
    public void Defaults_are_valid()
    {
        Assert.True(Validator.Validate(null, new FisherOptions()).Succeeded);
    }

    public static TheoryData<string, string> Rules => new()
    {
        { "LeaseDuration=0", "Fisher:Grains:LeaseDuration must be positive, got 00:00:00" },
        { "LeaseDuration=-1s", "Fisher:Grains:LeaseDuration must be positive, got -00:00:01" },
        { "DispatchPeriod=0", "Fisher:Grains:DispatchPeriod must be positive, got 00:00:00" },
        { "WorkerSlice=0", "Fisher:Grains:WorkerSlice must be positive, got 00:00:00" },
        { "StateExpiry=0", "Fisher:Grains:StateExpiry must be positive, got 00:00:00" },
        { "LeaseDuration=WorkerSlice", "Fisher:Grains:LeaseDuration must be longer than Fisher:Grains:WorkerSlice (00:00:00.5000000), got 00:00:00.5000000" },
        { "ChunkElements=0", "Fisher:Grains:ChunkElements must be at least 1, got 0" },
        { "ChunkElements=too many", "Fisher:Grains:ChunkElements must be at most 2097152, got 2097153" },
        { "ComputeThreadCount=0", "Fisher:Grains:ComputeThreadCount must be at least 1, got 0" },
        { "TorchThreads=0", "Fisher:Grains:TorchThreads must be at least 1, got 0" },
        { "TasksPerSilo=0", "Fisher:Grains:TasksPerSilo must be at least 1, got 0" },
        { "MaxTaskAttempts=0", "Fisher:Grains:MaxTaskAttempts must be at least 1, got 0" },
        { "DataRoots=relative", "Fisher:Grains:DataRoots: data root 'data' is not an absolute path" },
        { "DataRoots=missing", "Fisher:Grains:DataRoots: data root '/no/such/fisher/root' is not an existing folder" },
        { "MemoryBudget=1KiB", "Fisher:Grains:MemoryBudget must be at least 1048576 bytes (1 MiB), got 1024" },
        { "CostBudget=0", "Fisher:Grains:CostBudget must be a positive number of multiply-adds per input, got 0" },
        { "CostBudget=NaN", "Fisher:Grains:CostBudget must be a positive number of multiply-adds per input, got NaN" },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void Each_rule_names_its_setting_and_the_value(string setting, string expected)
    {
        var options = Bad(setting);
        var result = Validator.Validate(null, options);
        Assert.True(result.Failed);
        Assert.Equal([expected], result.Failures);
    }

    [Fact]
    public void Several_bad_settings_are_all_reported()
    {
        var options = new FisherOptions { TasksPerSilo = 0, TorchThreads = -2, WorkerSlice = TimeSpan.Zero, ChunkElements = 0 };
        var result = Validator.Validate(null, options);
        Assert.Equal(
        [
            "Fisher:Grains:WorkerSlice must be positive, got 00:00:00",
            "Fisher:Grains:ChunkElements must be at least 1, got 0",
            "Fisher:Grains:TorchThreads must be at least 1, got -2",
            "Fisher:Grains:TasksPerSilo must be at least 1, got 0",
        ], result.Failures);
    }

    /// <summary>A test fault outside a test run (FISHER_TEST_FAULTS unset) is refused, naming the variable.</summary>
    [Fact]
    public void A_test_fault_is_refused_outside_a_test_run()
    {
        Assert.False(TestFaults.Allowed, $"{TestFaults.EnvironmentVariable} is set in this test process");
        var result = Validator.Validate(null, new FisherOptions { TestFaults = new TestFaults { CrashOnInputsNamed = "x.npy" } });
        Assert.Equal(["Fisher:Grains:TestFaults is for tests only: set FISHER_TEST_FAULTS=1 to run a silo with a test fault"], result.Failures);
    }

    /// <summary>AddFisherGrains validates on start: the host does not start, and the exception names the setting.</summary>
    [Fact]
    public async Task A_silo_with_bad_settings_does_not_start()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(FreePort(), FreePort())
            .Configure<EndpointOptions>(o => o.AdvertisedIPAddress = IPAddress.Loopback)
            .AddFisherGrains(o =>
            {
                o.TasksPerSilo = 0;
                o.DispatchPeriod = TimeSpan.Zero;
            }));
        using var host = builder.Build();
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Equal(
        [
            "Fisher:Grains:DispatchPeriod must be positive, got 00:00:00",
            "Fisher:Grains:TasksPerSilo must be at least 1, got 0",
        ], e.Failures);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static FisherOptions Bad(string setting) => setting switch
    {
        "LeaseDuration=0" => new() { LeaseDuration = TimeSpan.Zero },
        "LeaseDuration=-1s" => new() { LeaseDuration = TimeSpan.FromSeconds(-1) },
        "DispatchPeriod=0" => new() { DispatchPeriod = TimeSpan.Zero },
        "WorkerSlice=0" => new() { WorkerSlice = TimeSpan.Zero },
        "StateExpiry=0" => new() { StateExpiry = TimeSpan.Zero },
        "LeaseDuration=WorkerSlice" => new() { LeaseDuration = TimeSpan.FromMilliseconds(500), WorkerSlice = TimeSpan.FromMilliseconds(500) },
        "ChunkElements=0" => new() { ChunkElements = 0 },
        "ChunkElements=too many" => new() { ChunkElements = FisherOptionsValidator.MaxChunkElements + 1 },
        "ComputeThreadCount=0" => new() { ComputeThreadCount = 0 },
        "TorchThreads=0" => new() { TorchThreads = 0 },
        "TasksPerSilo=0" => new() { TasksPerSilo = 0 },
        "MaxTaskAttempts=0" => new() { MaxTaskAttempts = 0 },
        "DataRoots=relative" => new() { DataRoots = ["data"] },
        "DataRoots=missing" => new() { DataRoots = ["/no/such/fisher/root"] },
        "MemoryBudget=1KiB" => new() { MemoryBudget = 1024 },
        "CostBudget=0" => new() { CostBudget = 0 },
        "CostBudget=NaN" => new() { CostBudget = double.NaN },
        _ => throw new ArgumentOutOfRangeException(nameof(setting), setting, "no such row"),
    };
}
