namespace Fisher.Deploy.Tests;

/// <summary>Issue 15 acceptance 4: the commands the tests run (<see cref="Guide"/>) are the guide's, as written in deploy/README.md.</summary>
public sealed class GuideTests
{
    [Fact]
    public void Every_command_the_tests_run_appears_in_the_guide()
    {
        var guide = File.ReadAllText(Path.Combine(TestProcess.RepoRoot, "deploy", "README.md"));
        var missing = Guide.Commands.Where(c => !guide.Contains(c, StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, "deploy/README.md does not show these commands the tests run:\n" + string.Join('\n', missing));
    }
}
