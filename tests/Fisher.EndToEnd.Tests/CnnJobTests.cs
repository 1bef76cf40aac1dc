using System.Text.Json.Nodes;

namespace Fisher.EndToEnd.Tests;

/// <summary>
/// A CNN job through the CLI with the embedded silo: the small residual CNN made by PyTorch for Fisher.Data's tests
/// (<c>tests/Fisher.Data.Tests/Fixtures/make_graph_fixtures.py</c>: graph architecture JSON, state_dict with BatchNorm,
/// NPY (N, 1, 6, 6) inputs) runs, and the table, summary.json, report.md and plots name its layers by module; samples
/// whose shape contradicts the network's input are one error line naming the file and both shapes, exit code 2.
/// </summary>
public sealed class CnnJobTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("fisher-e2e-cnn-");

    private static string Fixture(string name) => Path.Combine(TestProcess.RepoRoot, "tests", "Fisher.Data.Tests", "Fixtures", name);

    private static readonly string[] Layers = ["conv1", "bn1", "conv2", "bn2", "fc"];

    [Fact]
    public async Task A_residual_cnn_runs_and_its_layers_appear_by_module_name()
    {
        var output = Path.Combine(_folder.FullName, "out");
        var result = await TestProcess.Fisher("estimate", "--model", Fixture("small_cnn.pt"), "--architecture", Fixture("small_cnn.json"),
            "--data", Fixture("small_cnn_input.npy"), "--precision", "float64", "--shards", "2", "--no-progress", "--out", output);
        Assert.True(result.ExitCode == 0, result.Describe());
        foreach (var layer in Layers)
            Assert.True(result.Stdout.Contains($"│ {layer} ", StringComparison.Ordinal), result.Describe());
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "summary.json")))!;
        Assert.Equal(Layers, summary["groups"]!.AsArray().Select(g => (string)g!["name"]!));
        var report = File.ReadAllText(Path.Combine(output, "report.md"));
        Assert.All(Layers, l => Assert.Contains(l, report, StringComparison.Ordinal));
        Assert.True(new FileInfo(Path.Combine(output, "plots", "estimates.png")).Length > 10_000);
    }

    [Fact]
    public async Task Samples_that_contradict_the_input_shape_are_one_error_line_naming_the_file_and_both_shapes()
    {
        var inputs = Path.Combine(_folder.FullName, "wrong.npy");
        Npy.Write(inputs, new float[5 * 36], [5, 2, 3, 6]);
        var result = await TestProcess.Fisher("estimate", "--model", Fixture("small_cnn.pt"), "--architecture", Fixture("small_cnn.json"),
            "--data", inputs, "--no-progress", "--out", Path.Combine(_folder.FullName, "out"));
        Assert.True(result.ExitCode == 2, result.Describe());
        var errors = (result.Stdout + "\n" + result.Stderr).Split('\n').Where(l => l.Contains("error:", StringComparison.Ordinal)).ToArray();
        Assert.True(errors.Length == 1, result.Describe());
        Assert.Contains(inputs, errors[0], StringComparison.Ordinal);
        Assert.Contains("(2, 3, 6)", errors[0], StringComparison.Ordinal);
        Assert.Contains("(1, 6, 6)", errors[0], StringComparison.Ordinal);
    }

    public void Dispose() => _folder.Delete(recursive: true);
}
