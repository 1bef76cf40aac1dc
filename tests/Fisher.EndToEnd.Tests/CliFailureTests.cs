using System.Diagnostics;

namespace Fisher.EndToEnd.Tests;

/// <summary>
/// Issue 13 item 6: a CLI failure is one line on stderr and a documented exit code (src/Fisher.Client/ExitCodes.cs),
/// never a stack trace, and connecting gives up after --connect-timeout naming what it tried.
/// </summary>
public sealed class CliFailureTests
{
    public static TheoryData<string, string> Unreachable => new()
    {
        { "--cluster", "Redis" },   // no Redis listens there
        { "--gateway", "gateway" }, // no silo gateway listens there
    };

    [Theory]
    [MemberData(nameof(Unreachable))]
    public async Task An_unreachable_cluster_is_one_line_and_exit_code_3_after_the_connect_timeout(string option, string what)
    {
        var port = RedisServer.FreePort();
        var clock = Stopwatch.StartNew();
        var result = await TestProcess.Fisher("status", "some-job", "--token", "any", option, $"127.0.0.1:{port}", "--connect-timeout", "3");
        Assert.True(result.ExitCode == 3, result.Describe());
        var line = OneErrorLine(result);
        Assert.Contains($"could not connect to the cluster through {what} 127.0.0.1:{port} within 3 s (--connect-timeout", line, StringComparison.Ordinal);
        // Bounded: the timeout plus the process's start (nothing waits for minutes).
        Assert.True(clock.Elapsed < TestTimeouts.Of(TimeSpan.FromSeconds(60)), $"took {clock.Elapsed.TotalSeconds:F0} s\n{result.Describe()}");
    }

    [Fact]
    public async Task Bad_arguments_are_one_line_and_exit_code_2()
    {
        var badId = await TestProcess.Fisher("status", "../x", "--cluster", "127.0.0.1:1");
        Assert.True(badId.ExitCode == 2, badId.Describe());
        Assert.Contains("job-id: '../x' is not a job id", OneErrorLine(badId), StringComparison.Ordinal);

        var badTimeout = await TestProcess.Fisher("status", "x", "--token", "any", "--cluster", "127.0.0.1:1", "--connect-timeout", "0");
        Assert.True(badTimeout.ExitCode == 2, badTimeout.Describe());
        Assert.Contains("--connect-timeout: expected a positive number of seconds", OneErrorLine(badTimeout), StringComparison.Ordinal);

        var noCluster = await TestProcess.Fisher("watch", "x", "--token", "any");
        Assert.True(noCluster.ExitCode == 2, noCluster.Describe());
        Assert.Contains("needs a running cluster", OneErrorLine(noCluster), StringComparison.Ordinal);
    }

    /// <summary>The single "error: ..." line on stderr (none on stdout), with no stack trace anywhere.</summary>
    internal static string OneErrorLine(ProcessResult result)
    {
        var errors = result.Stderr.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToArray();
        Assert.True(errors.Length == 1, $"expected one error line on stderr, got {errors.Length}\n{result.Describe()}");
        Assert.DoesNotContain("error:", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stdout + result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", result.Stdout + result.Stderr, StringComparison.Ordinal);
        return errors[0];
    }
}
