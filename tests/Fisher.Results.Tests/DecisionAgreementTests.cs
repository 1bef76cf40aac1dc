using System.Text.RegularExpressions;
using Fisher.Estimators;

namespace Fisher.Results.Tests;

/// <summary>
/// summary.json's decision, report.md's "lower variance" column and the CLI table's "lower var." column say the same for
/// every group: they all read the one decision the assembler made (<see cref="DecisionRule"/>).
/// </summary>
public sealed partial class DecisionAgreementTests
{
    public static TheoryData<string> Jobs => ["closed form, K = 3", "draws, K = 3", "constructed: the old rules disagreed"];

    [Theory]
    [MemberData(nameof(Jobs))]
    public void Summary_report_and_cli_table_agree_on_every_group(string job)
    {
        var result = job switch
        {
            "closed form, K = 3" => Tests.Jobs.Assemble(Tests.Jobs.Spec("all", 3), Tests.Jobs.Estimated(FisherQuantity.All | FisherQuantity.InputMeans, 3)),
            "draws, K = 3" => Tests.Jobs.Assemble(Tests.Jobs.Spec("i1,i2", 3), Tests.Jobs.Estimated(FisherQuantity.SquaredScore | FisherQuantity.NegativeHessian | FisherQuantity.InputMeans, 3)),
            _ => Tests.Jobs.Assemble(Tests.Jobs.Spec("i1,i2", 2), [Constructed()]),
        };
        using var folder = new TempFolder();
        ResultFolder.Write(folder.Path, result);

        var summary = ResultJson.ReadSummary(folder.File(SummaryFile.FileName));
        var report = Column(File.ReadAllText(folder.File("report.md")), "lower variance");
        var table = ResultTable.Of(result);
        int column = table.Headers.ToList().IndexOf(ResultTable.DecisionHeader);
        Assert.True(column >= 0, "the CLI table has no decision column");

        Assert.Equal(summary.Groups.Count, report.Count);
        for (int g = 0; g < summary.Groups.Count; g++)
        {
            var decision = summary.Groups[g].Decision;
            Assert.NotNull(decision.Better);
            var symbol = QuantityCatalog.Find(decision.Better)!.Symbol;
            Assert.StartsWith(symbol + " ", report[g], StringComparison.Ordinal);
            Assert.Equal(report[g], table.Rows[g][column]);
            Assert.Equal(DecisionRule.Describe(decision), report[g]);
        }
        if (job.StartsWith("draws", StringComparison.Ordinal) || job.StartsWith("constructed", StringComparison.Ordinal))
            Assert.All(summary.Groups, g => Assert.Equal(DecisionRule.DrawsBasis, g.Decision.Basis));
        if (job.StartsWith("constructed", StringComparison.Ordinal))
            Assert.Equal("i2", summary.Groups[0].Decision.Better);
    }

    /// <summary>
    /// One group, N = 100 inputs, K = 2 draws, where the two rules of before issue 12 disagreed. Î1's draws scatter
    /// around one value (label variance 10, input variance 0); Î2's draws of an input are equal but inputs differ
    /// (label variance 0, per-input variance 5). The old summary rule compared the per-term variances (Î1 10 vs Î2 5:
    /// Î2), the old report compared the variances of the estimates from the per-input means (Î1 0 vs Î2 5/N: Î1).
    /// The label variances say Î2.
    /// </summary>
    private static GroupMoments Constructed()
    {
        const int n = 100, k = 2;
        Moments Stream(long count, double mean, double m2) => new(count, [mean, mean], [m2, m2]);
        double withinI1 = 10.0 * n * (k - 1); // W = M2_terms − K·M2_means, label part W/(N(K−1)) = 10
        double meansI2 = 5.0 * (n - 1);       // sample variance of the input means = 5
        var streams = new Dictionary<string, Moments>(StringComparer.Ordinal)
        {
            ["layer1.w.i1"] = Stream(n * k, 1.0, withinI1),
            ["layer1.w.i1_input_mean"] = Stream(n, 1.0, 0),
            ["layer1.w.i2"] = Stream(n * k, 1.0, k * meansI2),
            ["layer1.w.i2_input_mean"] = Stream(n, 1.0, meansI2),
        };
        // The old rules, as they were computed, to show the case is one where they disagree.
        double oldSummaryI1 = withinI1 / (n * k - 1), oldSummaryI2 = k * meansI2 / (n * k - 1);
        double oldReportI1 = 0.0 / (n - 1) / n, oldReportI2 = meansI2 / (n - 1) / n;
        Assert.True(oldSummaryI2 < oldSummaryI1 && oldReportI1 < oldReportI2, "the constructed case must split the old rules");
        return new GroupMoments("layer1", n, ["t"], streams);
    }

    /// <summary>The cells of one column of report.md's "Per group" table, in row order.</summary>
    private static List<string> Column(string report, string header)
    {
        var section = report[report.IndexOf("## Per group", StringComparison.Ordinal)..];
        var rows = section.Split('\n').SkipWhile(l => !l.StartsWith("| group", StringComparison.Ordinal)).TakeWhile(l => l.StartsWith('|')).ToArray();
        var headers = Cells(rows[0]);
        int index = Array.IndexOf(headers, header);
        Assert.True(index >= 0, $"no column '{header}' in: {rows[0]}");
        return rows.Skip(2).Select(r => Cells(r)[index]).ToList();
    }

    private static string[] Cells(string row) => CellSeparator().Split(row.Trim().Trim('|')).Select(c => c.Trim()).ToArray();

    [GeneratedRegex(@"(?<!\\)\|")]
    private static partial Regex CellSeparator();
}
