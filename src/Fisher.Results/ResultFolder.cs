using Fisher.Data;
using Fisher.Results.Reports;

namespace Fisher.Results;

/// <summary>
/// A result folder: <c>fisher.safetensors</c> (one float32 tensor per parameter and quantity, named
/// <c>&lt;parameter&gt;.&lt;tensor key&gt;</c>), <c>summary.json</c> (<see cref="SummaryFile"/>), <c>report.md</c> and
/// <c>plots/</c>. Written from a <see cref="JobResult"/>, read back into one.
/// </summary>
public static class ResultFolder
{
    /// <summary>The tensor file name inside a result folder.</summary>
    public const string TensorFile = "fisher.safetensors";

    /// <summary>
    /// Throws <see cref="ResultFolderTakenException"/> when <paramref name="folder"/> exists and is not an empty folder,
    /// and creates its parent folders: run before any compute, so a job never runs to find it cannot write its results.
    /// </summary>
    public static void EnsureFree(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var target = Target(folder);
        if (File.Exists(target) || (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any()))
            throw new ResultFolderTakenException(target);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
    }

    /// <summary>
    /// Writes every file of <paramref name="result"/> into a new folder beside <paramref name="folder"/>, then renames it
    /// to <paramref name="folder"/> in one step: readers never see half a result, and a folder that another job took in
    /// the meantime is not written over (<see cref="ResultFolderTakenException"/> says where this job's files are).
    /// </summary>
    public static ReportResult Write(string folder, JobResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        EnsureFree(folder);
        var target = Target(folder);
        var staging = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(staging);
        try
        {
            var report = WriteFiles(staging, result);
            if (Directory.Exists(target) && !Directory.EnumerateFileSystemEntries(target).Any())
                Directory.Delete(target);
            try
            {
                Directory.Move(staging, target);
            }
            catch (IOException) when (Directory.Exists(target) || File.Exists(target))
            {
                var kept = $"{target}.{result.JobId}";
                if (Directory.Exists(kept) || File.Exists(kept))
                    kept += "." + Path.GetFileName(staging).Split('.')[^2][..8];
                Directory.Move(staging, kept);
                throw new ResultFolderTakenException(target, kept);
            }
            string Moved(string path) => Path.Combine(target, Path.GetRelativePath(staging, path));
            return new ReportResult(Moved(report.ReportPath), report.Plots.Select(Moved).ToArray(), report.Skipped);
        }
        finally
        {
            if (Directory.Exists(staging))
                Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>The folder's full path without a trailing separator ("out/" names the folder "out", not a child of it).</summary>
    private static string Target(string folder) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));

    private static ReportResult WriteFiles(string folder, JobResult result)
    {
        var metadata = new Dictionary<string, string> { ["job_id"] = result.JobId, ["format"] = ResultMeaning.TensorFormat };
        if (result.Summary.Spec is { } spec)
            metadata["spec"] = ResultJson.SpecLine(spec);
        Safetensors.Write(Path.Combine(folder, TensorFile), result.Tensors, metadata);
        ResultJson.Write(Path.Combine(folder, SummaryFile.FileName), result.Summary);
        return ReportWriter.Write(folder, result);
    }

    /// <summary>
    /// Reads <paramref name="folder"/>. Throws <see cref="FileNotFoundException"/> (message: the file, then "no such
    /// file") when summary.json or fisher.safetensors is missing, and <see cref="DataFormatException"/> naming the file
    /// when one cannot be read. Without usable groups, every parameter of the tensor file forms one group "all".
    /// </summary>
    public static JobResult Read(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var summaryPath = Path.Combine(folder, SummaryFile.FileName);
        var tensorPath = Path.Combine(folder, TensorFile);
        foreach (var path in new[] { summaryPath, tensorPath })
        {
            if (!File.Exists(path))
                throw new FileNotFoundException($"{path}: no such file (a result folder holds {SummaryFile.FileName} and {TensorFile})", path);
        }
        var tensors = Safetensors.Read(tensorPath).Tensors.Values.ToArray();
        var summary = ResultJson.ReadSummary(summaryPath);
        if (summary.JobId.Length == 0)
            summary = summary with { JobId = Path.GetFileName(Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar)) };
        if (summary.Groups.Count == 0 || summary.Groups.All(g => g.Parameters.Count == 0))
        {
            var parameters = tensors.Select(t => GroupMoments.SplitKey(t.Name).Parameter).Where(p => p.Length > 0)
                .Distinct().Order(StringComparer.Ordinal).ToArray();
            summary = summary with { Groups = [new SummaryGroup { Name = "all", Parameters = parameters }] };
        }
        return new JobResult(summary, tensors);
    }
}
