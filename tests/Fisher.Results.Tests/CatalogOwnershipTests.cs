using System.Text.RegularExpressions;

namespace Fisher.Results.Tests;

/// <summary>
/// The meaning of a result has one owner: outside the stream-name table (FisherQuantityNames, the wire names of the
/// estimator's streams) and the catalog, no source file in src/ spells out a quantity key, so no other list of
/// estimates, variances or bounds can grow beside the catalog.
/// </summary>
public sealed partial class CatalogOwnershipTests
{
    private static readonly string[] Owners = ["FisherQuantity.cs", "FisherQuantityNames.cs", "QuantityCatalog.cs"];

    [Fact]
    public void Only_the_catalog_and_the_stream_names_spell_out_quantity_keys()
    {
        var source = Path.Combine(RepositoryRoot(), "src");
        var offenders = Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !Owners.Contains(Path.GetFileName(f)))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: f, Line: i + 1, Text: line)))
            .Where(l => QuantityKey().IsMatch(l.Text))
            .Select(l => $"{Path.GetRelativePath(source, l.File)}:{l.Line}: {l.Text.Trim()}")
            .ToArray();

        Assert.True(offenders.Length == 0, "quantity keys spelled out outside the catalog:\n" + string.Join("\n", offenders));
    }

    [Fact]
    public void The_check_finds_a_spelled_out_list() =>
        Assert.Matches(QuantityKey(), """string[] estimates = ["i1", "i2", "exact", "empirical"];""");

    /// <summary>A string literal that is exactly a quantity key of the catalog or of the streams.</summary>
    [GeneratedRegex("\"(i1|i2|exact|empirical|v1|v2|i1_input_mean|i2_input_mean|i2_negative|i2_negative_share|v1_upper|v1_lower|v2_upper|v2_lower|var_inputs)\"")]
    private static partial Regex QuantityKey();

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Fisher.Distributed.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no Fisher.Distributed.sln above {AppContext.BaseDirectory}");
    }
}
