using System.Diagnostics;

namespace Fisher.Data.Tests;

/// <summary>Fixture files, temporary folders, one torch thread, and Debian's python3-torch.</summary>
internal static class Support
{
    public static void EnsureTorch() => Fisher.Estimators.TorchRuntime.Configure(1);

    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public static double[] ReadAll(string npy)
    {
        using var d = Dataset.Open(npy);
        var values = new double[d.Rows * d.Features];
        d.ReadInputs(0, (int)d.Rows, values);
        return values;
    }

    private static readonly Lazy<bool> PythonTorch = new(() => RunPython("import torch, numpy").ExitCode == 0);

    public const string Python = "/usr/bin/python3";

    /// <summary>True when <c>/usr/bin/python3 -c "import torch, numpy"</c> works.</summary>
    public static bool HasPythonTorch => File.Exists(Python) && PythonTorch.Value;

    public static (int ExitCode, string Output, string Error) RunPython(string code, params string[] args)
    {
        if (!File.Exists(Python))
            return (-1, "", $"{Python} not found");
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(code);
        foreach (var a in args)
            info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TestTimeouts.Job))
        {
            process.Kill();
            return (-1, "", TestTimeouts.Exceeded(TestTimeouts.Job, "python3 to end"));
        }
        return (process.ExitCode, output.Result, error.Result);
    }
}

/// <summary>A temporary folder deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fisher-data-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
