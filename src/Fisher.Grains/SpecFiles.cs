using Fisher.Contracts;
using Fisher.Data;

namespace Fisher.Grains;

/// <summary>
/// The files of a job spec as the silo may open them: each resolved by <see cref="DataRoots.Resolve"/> (a regular
/// file under a data root). The coordinator resolves them before planning and every worker again before it opens them
/// (its silo may see other files, or a file may have been replaced since). An ONNX model may come without an
/// architecture file (<see cref="ModelSource"/>).
/// </summary>
internal sealed record SpecFiles(string Model, string? Architecture, string Inputs, string? Labels)
{
    /// <summary>Resolves every file of <paramref name="spec"/>; all refusals at once, each naming its spec field.</summary>
    public static SpecFiles Resolve(JobSpec spec, DataRoots roots)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(roots);
        var problems = new List<SpecProblem>();
        string One(string field, string path)
        {
            try
            {
                return roots.Resolve(path);
            }
            catch (DataPathException e)
            {
                problems.Add(new SpecProblem(field, e.Message));
                return path;
            }
        }
        var files = new SpecFiles(
            One(nameof(JobSpec.ModelPath), spec.ModelPath),
            string.IsNullOrEmpty(spec.ArchitecturePath) ? null : One(nameof(JobSpec.ArchitecturePath), spec.ArchitecturePath),
            One(nameof(JobSpec.InputsPath), spec.InputsPath),
            string.IsNullOrEmpty(spec.LabelsPath) ? null : One(nameof(JobSpec.LabelsPath), spec.LabelsPath));
        return problems.Count == 0 ? files : throw new JobSpecException(problems);
    }
}
