using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;
using Fisher.Results.Reports;
using SkiaSharp;
using Xunit;

namespace Fisher.Results.Tests;

/// <summary>
/// ReportWriter on synthetic result folders (summary.json and fisher.safetensors written here): every PNG decodes,
/// is large and not blank; report.md links exactly the PNGs that exist; missing quantities skip their plots; the
/// group statistics match hand computations; missing or broken inputs throw naming the file.
/// </summary>
public sealed class ReportTests
{
    /// <summary>Parameters per group: (group, [(parameter, shape)]).</summary>
    private static readonly (string Group, (string Name, long[] Shape)[] Parameters)[] Layout =
    [
        ("layer1", [("0.weight", [6, 8]), ("0.bias", [6])]),
        ("layer2", [("2.weight", [4, 6]), ("2.bias", [4])]),
        ("layer3", [("4.weight", [3, 4]), ("4.bias", [3])]),
    ];

    private enum Variant
    {
        /// <summary>i1, i2, exact, empirical (+_var) only.</summary>
        EstimatesOnly,

        /// <summary>Plus v1, v2 (K = 1 job: the split is the closed-form approximation).</summary>
        WithVariances,

        /// <summary>Everything, including bounds, the draw-based split and the negative share (K = 2).</summary>
        Everything,
    }

    [Fact]
    public void Everything_WritesFivePlots_ReportLinksThem()
    {
        using var folder = new TempFolder();
        WriteResult(folder.Path, Variant.Everything);

        var result = ReportWriter.Write(folder.Path);

        Assert.Equal(ReportWriter.PlotFiles.Count, result.Plots.Count);
        Assert.Empty(result.Skipped);
        AssertPlotsAndLinks(folder.Path, ReportWriter.PlotFiles);
        var report = File.ReadAllText(folder.File("report.md"));
        Assert.Contains("# Fisher information report: job job-synthetic", report);
        Assert.Contains("| layer1 | 54 |", report);
        Assert.Contains("estimated from the K = 2 label draws", report);
        Assert.DoesNotContain("Not drawn", report);
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp*", SearchOption.AllDirectories));
    }

    [Fact]
    public void EstimatesOnly_DrawsEstimates_SkipsTheRestWithNotes()
    {
        using var folder = new TempFolder();
        WriteResult(folder.Path, Variant.EstimatesOnly);

        var result = ReportWriter.Write(folder.Path);

        Assert.Equal(new[] { "estimates.png" }, result.Plots.Select(p => Path.GetFileName(p)).ToArray());
        Assert.Equal(4, result.Skipped.Count);
        AssertPlotsAndLinks(folder.Path, ["estimates.png"]);
        var report = File.ReadAllText(folder.File("report.md"));
        Assert.Equal(4, Regex.Count(report, "^Not drawn: ", RegexOptions.Multiline));
        // The lower-variance column shows summary.json's decision.
        Assert.Equal("i1", GroupStatistics.Compute(ResultFolder.Read(folder.Path))[0].Decision.Better);
        Assert.Contains("| Î1 (0.5×) |", report);
    }

    [Fact]
    public void WithVariances_NoBounds_DrawsStdAndClosedFormSplit()
    {
        using var folder = new TempFolder();
        WriteResult(folder.Path, Variant.WithVariances);

        var result = ReportWriter.Write(folder.Path);

        string[] expected = ["estimates.png", "std-vs-bounds.png", "variance-split.png"];
        Assert.Equal(expected, result.Plots.Select(p => Path.GetFileName(p)).ToArray());
        AssertPlotsAndLinks(folder.Path, expected);
        var report = File.ReadAllText(folder.File("report.md"));
        Assert.Contains("Not drawn: the bounds", report);
        Assert.Contains("The label part is the closed-form mean V1 or V2", report);
    }

    [Fact]
    public void Rewrite_WithFewerQuantities_RemovesStalePlots()
    {
        using var folder = new TempFolder();
        WriteResult(folder.Path, Variant.Everything);
        ReportWriter.Write(folder.Path);
        Assert.Equal(5, Directory.GetFiles(folder.File("plots"), "*.png").Length);

        WriteResult(folder.Path, Variant.EstimatesOnly);
        ReportWriter.Write(folder.Path);

        AssertPlotsAndLinks(folder.Path, ["estimates.png"]);
    }

    [Fact]
    public void GroupStatistics_MatchHandComputation()
    {
        using var folder = new TempFolder();
        WriteResult(folder.Path, Variant.Everything);
        var data = ResultFolder.Read(folder.Path);
        var groups = GroupStatistics.Compute(data);

        Assert.Equal(["layer1", "layer2", "layer3"], groups.Select(g => g.Name).ToArray());
        var layer2 = groups[1];
        Assert.Equal(28, layer2.Size);
        var i1 = Values(1, "i1");
        var i1Var = Values(1, "i1_var");
        Close(i1.Average(), layer2.Estimates[Q("i1")].Mean);
        Close(Math.Sqrt(i1Var.Sum()) / 28, layer2.Estimates[Q("i1")].StandardError);
        Assert.Equal(0.1, layer2.Estimates[Q("i1")].RelativeStandardError, 12); // summary.json's value wins
        Close(Values(1, "v1").Average(), layer2.VarianceMeans[Q("v1")]);

        // Upper bound = 4 V, lower bound = V/2 everywhere: log10 ratios are constant.
        Assert.Equal(Math.Log10(4), layer2.Tightness[Q("v1_upper")].Median, 6);
        Assert.Equal(Math.Log10(0.5), layer2.Tightness[Q("v1_lower")].P5, 6);
        Assert.Equal(0, layer2.TightnessExcluded[Q("v1_upper")]);

        // Last layer: V2 = 0, so no Î2 tightness and Î2 has the lower label variance.
        var layer3 = groups[2];
        Assert.False(layer3.Tightness.ContainsKey(Q("v2_upper")));
        Assert.Equal(15, layer3.TightnessExcluded[Q("v2_upper")]);
        Assert.Equal("i2", layer3.Decision.Better);
        Assert.Equal(0, layer3.Decision.Ratio());

        // Draw-based split: input part 2e-3 ... label part from i1_var_labels, K = 2.
        var split = layer2.Splits[Q("i1")];
        Assert.Equal(SplitSource.Draws, split.Source);
        Assert.Equal(2, split.Draws);
        Close(Values(1, "var_inputs").Average(), split.InputPart);
        Close(Values(1, "i1_var_labels").Average(), split.LabelPart);
        Close(split.LabelPart / 2 / (split.InputPart + split.LabelPart / 2), split.LabelShare);

        Close(Values(0, "i2_negative_share").Average(), groups[0].NegativeShare!.Value.Mean);
        Close(Values(0, "i2_negative_share").Max(), groups[0].NegativeShare!.Value.Max);
    }

    [Fact]
    public void ClosedFormSplit_UsesExactVarianceTimesN()
    {
        using var folder = new TempFolder();
        WriteResult(folder.Path, Variant.WithVariances);
        var group = GroupStatistics.Compute(ResultFolder.Read(folder.Path))[0];

        var split = group.Splits[Q("i2")];
        Assert.Equal(SplitSource.ClosedForm, split.Source);
        Assert.Equal(1, split.Draws);
        Close(Values(0, "exact_var").Average() * Inputs, split.InputPart);
        Close(Values(0, "v2").Average(), split.LabelPart);
    }

    [Fact]
    public void Summary_ExtraAndMissingFields_AreTolerated()
    {
        using var folder = new TempFolder();
        WriteResult(folder.Path, Variant.WithVariances);
        File.WriteAllText(folder.File("summary.json"), """{"jobId": "bare", "decisions": [{"group": "layer1"}], "future": {"x": 1}}""");

        var result = ReportWriter.Write(folder.Path);

        var data = ResultFolder.Read(folder.Path);
        Assert.Equal("all", Assert.Single(data.Summary.Groups).Name);
        Assert.Equal(6, data.Summary.Groups[0].Parameters.Count);
        // Without the input count N the closed-form split cannot be formed: estimates and std-vs-bounds only.
        Assert.Equal(2, result.Plots.Count);
        AssertPlotsAndLinks(folder.Path, ["estimates.png", "std-vs-bounds.png"]);
        Assert.Contains("| all | 97 |", File.ReadAllText(folder.File("report.md")));
    }

    [Theory]
    [InlineData("summary.json")]
    [InlineData("fisher.safetensors")]
    public void MissingFile_ThrowsNamingIt_WritesNothing(string file)
    {
        using var folder = new TempFolder();
        WriteResult(folder.Path, Variant.Everything);
        File.Delete(folder.File(file));

        var e = Assert.Throws<FileNotFoundException>(() => ReportWriter.Write(folder.Path));

        Assert.StartsWith(folder.File(file) + ": no such file", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(File.Exists(folder.File("report.md")));
    }

    [Theory]
    [InlineData("summary.json", "{\"jobId\": ")]
    [InlineData("summary.json", "[1, 2]")]
    [InlineData("summary.json", "{\"groups\": 3}")]
    [InlineData("fisher.safetensors", "not a safetensors file")]
    public void BrokenFile_ThrowsDataFormatNamingIt(string file, string content)
    {
        using var folder = new TempFolder();
        WriteResult(folder.Path, Variant.Everything);
        File.WriteAllText(folder.File(file), content);

        var e = Assert.Throws<DataFormatException>(() => ReportWriter.Write(folder.Path));

        Assert.Equal(folder.File(file), e.Path);
        Assert.StartsWith(folder.File(file) + ": ", e.Message);
        Assert.False(File.Exists(folder.File("report.md")));
    }

    [Theory]
    [InlineData(-3, "10⁻³")]
    [InlineData(0, "1")]
    [InlineData(1, "10")]
    [InlineData(12, "10¹²")]
    public void PowerOfTen_Labels(double exponent, string expected) => Assert.Equal(expected, ReportPlots.PowerOfTen(exponent));

    [Theory]
    [InlineData(0.0003056, "3.06e-4")]
    [InlineData(0.0118, "0.0118")]
    [InlineData(12345.6, "1.23e+4")]
    [InlineData(0, "0")]
    [InlineData(double.NaN, "–")]
    public void Format_IsInvariant(double value, string expected) => Assert.Equal(expected, NumberFormat.Format(value));

    // ---------------------------------------------------------------- helpers

    private static QuantityInfo Q(string key) => QuantityCatalog.Find(key) ?? throw new ArgumentException(key);

    /// <summary>Equal to float32 precision (the tensors are stored as F32).</summary>
    private static void Close(double expected, double actual) =>
        Assert.True(Math.Abs(expected - actual) <= 1e-6 * Math.Abs(expected) + 1e-30, $"expected {expected:R}, got {actual:R}");

    private const int Inputs = 500;

    /// <summary>Checks every expected PNG (decodes, ≥ 400 px each way, not blank), that no other plot exists and report.md links exactly these.</summary>
    private static void AssertPlotsAndLinks(string folder, IReadOnlyList<string> expected)
    {
        var plots = Path.Combine(folder, "plots");
        var present = Directory.GetFiles(plots).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected.Order(StringComparer.Ordinal).ToArray(), present);
        foreach (var file in expected)
            AssertPictureNotBlank(Path.Combine(plots, file));

        var report = File.ReadAllText(Path.Combine(folder, "report.md"));
        var links = Regex.Matches(report, @"!\[[^\]]*\]\(([^)]+)\)").Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(expected.Select(f => "plots/" + f).ToArray(), links);
        foreach (var link in links)
            Assert.True(File.Exists(Path.Combine(folder, link)), $"report.md links {link}, which does not exist");
    }

    private static void AssertPictureNotBlank(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        Assert.True(bitmap.Width >= 400 && bitmap.Height >= 400, $"{path}: {bitmap.Width}x{bitmap.Height}");
        var background = bitmap.GetPixel(0, 0);
        var pixels = bitmap.Pixels;
        int differing = pixels.Count(p => p != background);
        int colours = pixels.Distinct().Count();
        Assert.True(differing >= 0.02 * pixels.Length, $"{path}: only {differing} of {pixels.Length} pixels differ from the background");
        Assert.True(colours >= 3, $"{path}: {colours} distinct colours");
    }

    /// <summary>Deterministic synthetic values of one quantity of one group (all its parameters, in layout order).</summary>
    private static double[] Values(int group, string quantity) =>
        Layout[group].Parameters.SelectMany(p => Tensor(group, p.Name, quantity, Count(p.Shape))).ToArray();

    private static long Count(long[] shape) => shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>
    /// Values per quantity: the Fisher diagonal I grows tenfold per layer; the estimates scatter ±5 % around it; V1 = 2I²,
    /// V2 = I² except 0 in the last layer; bounds 4V and V/2; negative share up to 0.4 except 0 in the last layer.
    /// </summary>
    private static double[] Tensor(int group, string parameter, string quantity, long count)
    {
        var values = new double[count];
        int salt = parameter.Sum(c => c) & 0xff;
        for (int i = 0; i < count; i++)
        {
            double u = ((i * 37 + salt * 11) % 101) / 100.0; // in [0, 1]
            double fisher = Math.Pow(10, group - 3) * (0.5 + u);
            double v1 = 2 * fisher * fisher;
            double v2 = group == 2 ? 0 : fisher * fisher * (0.5 + u);
            values[i] = quantity switch
            {
                "i1" => fisher * (1 + 0.05 * (u - 0.5)),
                "i2" => fisher * (1 - 0.05 * (u - 0.5)),
                "exact" => fisher,
                "empirical" => fisher * 0.9,
                "i1_var" => (v1 + fisher * fisher) / Inputs,
                "i2_var" => (v2 + fisher * fisher) / Inputs,
                "exact_var" or "empirical_var" => fisher * fisher / Inputs,
                "v1" => v1,
                "v2" => v2,
                "v1_upper" => 4 * v1,
                "v1_lower" => v1 / 2,
                "v2_upper" => 4 * v2,
                "v2_lower" => v2 / 2,
                "i1_var_labels" => v1 * (1 + 0.1 * u),
                "i2_var_labels" => v2 * (1 + 0.1 * u),
                "var_inputs" => fisher * fisher * (u - 0.05),
                "i2_negative_share" => group == 2 ? 0 : 0.4 * u,
                _ => throw new ArgumentException(quantity),
            };
        }
        return values;
    }

    private static void WriteResult(string folder, Variant variant)
    {
        var quantities = new List<string> { "i1", "i2", "exact", "empirical", "i1_var", "i2_var", "exact_var", "empirical_var" };
        if (variant >= Variant.WithVariances)
            quantities.AddRange(["v1", "v2"]);
        if (variant == Variant.Everything)
            quantities.AddRange(["v1_upper", "v1_lower", "v2_upper", "v2_lower", "i1_var_labels", "i2_var_labels", "var_inputs", "i2_negative_share"]);
        int draws = variant == Variant.Everything ? 2 : 1;

        var tensors = new List<NamedArray>();
        var groups = new JsonArray();
        for (int g = 0; g < Layout.Length; g++)
        {
            foreach (var (name, shape) in Layout[g].Parameters)
            {
                foreach (var q in quantities)
                    tensors.Add(new NamedArray($"{name}.{q}", shape, Tensor(g, name, q, Count(shape))));
            }
            var summaryQuantities = new JsonObject();
            foreach (var q in new[] { "i1", "i2", "exact", "empirical" })
            {
                summaryQuantities[q] = new JsonObject
                {
                    ["count"] = q is "i1" or "i2" ? Inputs * draws : Inputs,
                    ["meanEstimate"] = Values(g, q).Average(),
                    ["relativeStandardError"] = q == "i1" ? 0.1 : null,
                };
            }
            // A decision as summary.json states it (layer1: Î1, at half of Î2's label variance; the others: mean V1 vs mean V2).
            double v1 = Values(g, "v1").Average(), v2 = g == 0 ? 2 * v1 : Values(g, "v2").Average();
            groups.Add(new JsonObject
            {
                ["decision"] = new JsonObject
                {
                    ["better"] = v2 < v1 ? "i2" : "i1",
                    ["basis"] = DecisionRule.ClosedFormBasis,
                    ["labelVarianceI1"] = v1,
                    ["labelVarianceI2"] = v2,
                },
                ["name"] = Layout[g].Group,
                ["parameters"] = new JsonArray(Layout[g].Parameters.Select(p => (JsonNode)JsonValue.Create(p.Name)!).ToArray()),
                ["size"] = Layout[g].Parameters.Sum(p => Count(p.Shape)),
                ["quantities"] = summaryQuantities,
            });
        }
        Safetensors.Write(Path.Combine(folder, "fisher.safetensors"), tensors, new Dictionary<string, string> { ["job_id"] = "job-synthetic" });
        var summary = new JsonObject
        {
            ["jobId"] = "job-synthetic",
            ["state"] = "Completed",
            ["spec"] = JsonNode.Parse(ResultJson.SpecLine(new JobSpec
            {
                ModelPath = "/data/model.pt", ArchitecturePath = "/data/model.json", InputsPath = "/data/inputs.npy", Quantities = FisherQuantity.All, DrawsPerInput = draws, Seed = 7,
            })),
            ["inputs"] = Inputs,
            ["drawsPerInput"] = draws,
            ["groups"] = groups,
            ["decisions"] = new JsonArray(),
        };
        File.WriteAllText(Path.Combine(folder, "summary.json"), summary.ToJsonString());
    }
}
