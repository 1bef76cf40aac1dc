using System.Text.Json.Nodes;
using Fisher.EndToEnd.Tests;
using Fisher.Tests;

namespace Fisher.Deploy.Tests;

/// <summary>
/// Validation against the OpenAPI schemas of a current Kubernetes release, as the npm packages of schemas/package.json
/// ship them (installed by tools/test.sh), plus a check that rejects fields the schemas do not have (schemas/validate.mjs).
/// </summary>
public static class KubernetesSchemas
{
    /// <summary>The node project that holds the schemas.</summary>
    public static string Folder { get; } = Path.Combine(TestProcess.RepoRoot, "tests", "Fisher.Deploy.Tests", "schemas");

    /// <summary>One line per problem, "Kind/name: /json/pointer: what was expected"; empty when every object is valid.</summary>
    public static async Task<IReadOnlyList<string>> Problems(IEnumerable<JsonObject> objects)
    {
        if (!Directory.Exists(Path.Combine(Folder, "node_modules", "kubernetes-models")))
            throw new InvalidOperationException($"{Path.Combine(Folder, "node_modules")} is missing: run the tests with tools/test.sh (it runs npm ci in {Path.GetRelativePath(TestProcess.RepoRoot, Folder)})");
        var node = Requirements.Program("node", "nodejs");
        var input = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(input, new JsonArray(objects.Select(o => (JsonNode)o.DeepClone()).ToArray()).ToJsonString());
            // The objects go in through a file as stdin: TestProcess closes the child's stdin at start.
            var result = await TestProcess.Run("/bin/sh", ["-c", "exec \"$0\" validate.mjs < \"$1\"", node, input], TestTimeouts.Request, workingDirectory: Folder);
            var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            return result.ExitCode switch
            {
                0 when lines.Length == 0 => [],
                1 when lines.Length > 0 => lines,
                _ => throw new InvalidOperationException($"schemas/validate.mjs did not run as expected:\n{result.Describe()}"),
            };
        }
        finally
        {
            File.Delete(input);
        }
    }
}
