using System.Text.Json.Nodes;
using Fisher.Results;

namespace Fisher.EndToEnd.Tests;

/// <summary>
/// Issue 16, acceptance 2: the default job on the bundled sample shows the closed-form-based uncertainty and says which
/// variance it uses, in the CLI table, summary.json and report.md; its intervals for the input distribution are in
/// fisher.safetensors.
/// </summary>
public sealed class SampleUncertaintyTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("fisher-e2e-uncertainty-");

    [Fact]
    public async Task The_default_job_shows_the_closed_form_uncertainty_and_names_it()
    {
        var result = await TestProcess.Fisher(["estimate", "--no-progress", "--out", _folder.FullName]);
        Assert.True(result.ExitCode == 0, result.Describe());

        // CLI: the sentence under the table.
        Assert.Contains("Î1, Î2: " + EstimateVariance.ClosedFormBasis, result.Stdout.ReplaceLineEndings(" "), StringComparison.Ordinal);

        // summary.json: per group, Î1 and Î2 name the closed form for both targets and give both relative errors.
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(_folder.FullName, SummaryFile.FileName)))!;
        var groups = summary["groups"]!.AsArray();
        Assert.Equal(3, groups.Count);
        foreach (var group in groups)
        {
            foreach (var key in new[] { "i1", "i2" })
            {
                var q = group!["quantities"]![key]!;
                Assert.Equal(EstimateVariance.ClosedFormBasis, (string?)q["variance"]);
                Assert.Equal(EstimateVariance.ClosedFormLabelsBasis, (string?)q["varianceGivenInputs"]);
                Assert.True((double)q["relativeStandardErrorGivenInputs"]! <= (double)q["relativeStandardError"]!);
            }
        }

        // report.md: the same sentence and where the intervals were calibrated.
        var report = File.ReadAllText(Path.Combine(_folder.FullName, "report.md"));
        Assert.Contains("Î1, Î2: " + EstimateVariance.ClosedFormBasis, report, StringComparison.Ordinal);
        Assert.Contains(IntervalCalibration.Summary, report, StringComparison.Ordinal);

        // fisher.safetensors: the interval tensors bracket the estimate.
        var (tensors, _) = Fisher.Data.Safetensors.Read(Path.Combine(_folder.FullName, "fisher.safetensors"));
        foreach (var name in new[] { "0.weight", "2.bias", "4.weight" })
        {
            var estimate = tensors[$"{name}.i1"].Data;
            var lower = tensors[$"{name}.i1_lower"].Data;
            var upper = tensors[$"{name}.i1_upper"].Data;
            for (int i = 0; i < estimate.Length; i++)
                Assert.True(lower[i] <= estimate[i] && estimate[i] <= upper[i], $"{name}.i1[{i}]: {estimate[i]} outside [{lower[i]}, {upper[i]}]");
        }
    }

    public void Dispose() => _folder.Delete(recursive: true);
}
