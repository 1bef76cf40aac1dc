using Fisher.Contracts;
using Fisher.Estimators;

namespace Fisher.Results.Tests;

/// <summary>A result folder is written in one step and never over another job's files; job ids are names, not paths.</summary>
public sealed class ResultFolderSafetyTests
{
    private static readonly JobResult Result = Jobs.Assemble(Jobs.Spec("i1,exact", 1), Jobs.Estimated(FisherQuantity.SquaredScore | FisherQuantity.Exact, 1));

    [Fact]
    public void A_folder_holding_files_is_refused_before_anything_is_written()
    {
        using var parent = new TempFolder();
        var folder = parent.File("taken");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine");

        var e = Assert.Throws<ResultFolderTakenException>(() => ResultFolder.Write(folder, Result));

        Assert.StartsWith(folder + ": ", e.Message);
        Assert.Null(e.KeptIn);
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(folder).Select(Path.GetFileName));
        Assert.Equal(["taken"], Directory.GetFileSystemEntries(parent.Path).Select(Path.GetFileName)); // no staging folder left
        Assert.Throws<ResultFolderTakenException>(() => ResultFolder.EnsureFree(Path.Combine(folder, "notes.txt")));
    }

    [Fact]
    public void A_new_or_empty_folder_receives_every_file_and_no_staging_folder_stays()
    {
        using var parent = new TempFolder();
        var empty = parent.File("empty");
        Directory.CreateDirectory(empty);

        var report = ResultFolder.Write(empty + Path.DirectorySeparatorChar, Result); // "out/" names the folder "out"
        ResultFolder.Write(parent.File(Path.Combine("new", "deeper")), Result);

        Assert.Equal(Path.Combine(empty, "report.md"), report.ReportPath);
        Assert.All(report.Plots, p => Assert.True(File.Exists(p), p));
        foreach (var file in new[] { ResultFolder.TensorFile, SummaryFile.FileName, "report.md" })
            Assert.True(File.Exists(Path.Combine(empty, file)), file);
        Assert.Equal(["empty", "new"], Directory.GetFileSystemEntries(parent.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Throws<ResultFolderTakenException>(() => ResultFolder.Write(empty, Result)); // the second job with the same folder
    }

    [Theory]
    [InlineData("20261202-085516-8a9778", true)]
    [InlineData("sweep-x-epoch-03", true)]
    [InlineData("a.b_c", true)]
    [InlineData("../../x", false)]
    [InlineData("a/b", false)]
    [InlineData("..", false)]
    [InlineData(".hidden", false)]
    [InlineData("", false)]
    [InlineData("with space", false)]
    public void Job_ids_are_names_not_paths(string id, bool valid)
    {
        Assert.Equal(valid, JobIds.IsValid(id));
        Assert.Equal(valid, JobIds.Problem(id) is null);
        Assert.False(JobIds.IsValid(new string('a', JobIds.MaxLength + 1)));
    }
}
