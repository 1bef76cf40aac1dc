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

    /// <summary>Writes every file of <paramref name="result"/> into <paramref name="folder"/> (created if needed).</summary>
    public static ReportResult Write(string folder, JobResult result)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(result);
        Directory.CreateDirectory(folder);
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
