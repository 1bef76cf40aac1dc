using System.Globalization;
using System.Text;

namespace Fisher.EndToEnd.Tests;

/// <summary>Bad files through the CLI with the embedded silo: exit code 2 and one line naming the file and the problem.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("fisher-e2e-bad-");

    private static string Sample(string name) => Path.Combine(TestProcess.RepoRoot, "samples", "fashion-mnist", name);

    [Fact]
    public async Task Inputs_with_a_NaN_and_a_label_out_of_range_are_named_with_exit_code_2()
    {
        var inputs = new float[10 * 784];
        var random = new Random(5);
        for (int i = 0; i < inputs.Length; i++)
            inputs[i] = random.Next(256);
        string good = Path.Combine(_folder.FullName, "good.npy"), nan = Path.Combine(_folder.FullName, "nan.npy");
        string labels = Path.Combine(_folder.FullName, "labels.npy"), badLabels = Path.Combine(_folder.FullName, "bad-labels.npy");
        Npy.Write(good, inputs, [10, 784]);
        inputs[7 * 784 + 300] = float.NaN;
        Npy.Write(nan, inputs, [10, 784]);
        var y = Enumerable.Range(0, 10).Select(i => (long)i).ToArray();
        Npy.Write(labels, y);
        y[8] = 12;
        Npy.Write(badLabels, y);

        var withNaN = await TestProcess.Fisher("estimate", "--data", nan, "--labels", labels, "--estimators", "all", "--no-progress", "--out", Path.Combine(_folder.FullName, "out-nan"));
        var line = SingleErrorLine(withNaN);
        Assert.True(line.Contains(nan, StringComparison.Ordinal) && line.Contains("NaN", StringComparison.Ordinal), withNaN.Describe());

        var outOfRange = await TestProcess.Fisher("estimate", "--data", good, "--labels", badLabels, "--estimators", "all", "--no-progress", "--out", Path.Combine(_folder.FullName, "out-labels"));
        line = SingleErrorLine(outOfRange);
        Assert.True(line.Contains(badLabels, StringComparison.Ordinal) && line.Contains("out of range", StringComparison.Ordinal) && line.Contains("12", StringComparison.Ordinal), outOfRange.Describe());

        Assert.False(Directory.Exists(Path.Combine(_folder.FullName, "out-nan")));
        Assert.False(Directory.Exists(Path.Combine(_folder.FullName, "out-labels")));
    }

    [Fact]
    public async Task Architecture_that_disagrees_with_the_weights_lists_every_mismatch_with_exit_code_2()
    {
        var json = File.ReadAllText(Sample("model.json")).Replace("[784, 128, 64, 10]", "[784, 100, 64, 10]", StringComparison.Ordinal);
        Assert.Contains("100", json, StringComparison.Ordinal);
        var architecture = Path.Combine(_folder.FullName, "narrow.json");
        File.WriteAllText(architecture, json);

        var result = await TestProcess.Fisher("estimate", "--architecture", architecture, "--no-progress", "--out", Path.Combine(_folder.FullName, "out-arch"));
        var line = SingleErrorLine(result);
        foreach (var expected in new[] { Sample("model.pt"), "0.weight", "[128, 784]", "[100, 784]", "0.bias", "[128]", "[100]", "2.weight", "[64, 128]", "[64, 100]" })
            Assert.True(line.Contains(expected, StringComparison.Ordinal), $"'{expected}' missing from the error line\n{result.Describe()}");
        Assert.DoesNotContain("4.weight", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_bad_option_is_named_by_its_flag_in_one_line_with_exit_code_2()
    {
        var result = await TestProcess.Fisher("estimate", "--draws", "0", "--batch-size", "0", "--delta", "2", "--no-progress", "--out", Path.Combine(_folder.FullName, "out-options"));
        var line = SingleErrorLine(result);
        foreach (var expected in new[] { "--draws: must be at least 1, got 0", "--batch-size: must be at least 1, got 0", "--delta: must be in (0, 1), got 2" })
            Assert.True(line.Contains(expected, StringComparison.Ordinal), $"'{expected}' missing from the error line\n{result.Describe()}");

        result = await TestProcess.Fisher("estimate", "--grouping", "rows", "--no-progress", "--out", Path.Combine(_folder.FullName, "out-grouping"));
        line = SingleErrorLine(result);
        Assert.True(line.Contains("--grouping: unknown grouping 'rows'; expected layer, tensor or all", StringComparison.Ordinal), result.Describe());
        Assert.False(Directory.Exists(Path.Combine(_folder.FullName, "out-options")));
    }

    [Fact]
    public async Task A_path_as_job_id_and_a_taken_out_folder_are_refused_before_any_work()
    {
        var result = await TestProcess.Run(TestProcess.FisherPath, ["estimate", "--job-id", "../../x", "--no-progress"], TimeSpan.FromMinutes(3), _folder.FullName);
        var line = SingleErrorLine(result);
        Assert.True(line.Contains("--job-id: '../../x' is not a job id", StringComparison.Ordinal), result.Describe());
        Assert.Empty(Directory.GetFileSystemEntries(_folder.FullName));

        var taken = Path.Combine(_folder.FullName, "taken");
        Directory.CreateDirectory(taken);
        File.WriteAllText(Path.Combine(taken, "keep.txt"), "mine");
        result = await TestProcess.Fisher("estimate", "--no-progress", "--out", taken);
        line = SingleErrorLine(result);
        Assert.True(line.Contains(taken + ": the folder already exists and is not empty", StringComparison.Ordinal), result.Describe());
        Assert.DoesNotContain("Job ", result.Stdout, StringComparison.Ordinal); // refused before a silo started
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(taken).Select(Path.GetFileName));
    }

    /// <summary>Exit code 2, no crash, and exactly one line "error: ..." (returned).</summary>
    private static string SingleErrorLine(ProcessResult result)
    {
        Assert.True(result.ExitCode == 2, $"expected exit code 2\n{result.Describe()}");
        var all = result.Stdout + "\n" + result.Stderr;
        Assert.True(!all.Contains("Unhandled exception", StringComparison.Ordinal) && !all.Contains("   at ", StringComparison.Ordinal), $"the CLI crashed\n{result.Describe()}");
        var errors = all.Split('\n').Where(l => l.Contains("error:", StringComparison.Ordinal)).ToArray();
        Assert.True(errors.Length == 1, $"expected one error line, got {errors.Length}\n{result.Describe()}");
        return errors[0];
    }

    public void Dispose()
    {
        try
        {
            _folder.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Writes NPY v1.0 files (little-endian, C order).</summary>
internal static class Npy
{
    public static void Write(string path, float[] data, long[] shape) =>
        Write(path, "<f4", shape, data.SelectMany(BitConverter.GetBytes).ToArray());

    public static void Write(string path, long[] data) =>
        Write(path, "<i8", [data.Length], data.SelectMany(BitConverter.GetBytes).ToArray());

    private static void Write(string path, string descr, long[] shape, byte[] bytes)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("NPY writer assumes a little-endian machine");
        var dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + header.Length + 1;
        header += new string(' ', (64 - total % 64) % 64) + "\n";
        using var file = File.Create(path);
        file.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y']);
        file.WriteByte(1);
        file.WriteByte(0);
        file.Write(BitConverter.GetBytes((ushort)header.Length));
        file.Write(Encoding.ASCII.GetBytes(header));
        file.Write(bytes);
    }
}
