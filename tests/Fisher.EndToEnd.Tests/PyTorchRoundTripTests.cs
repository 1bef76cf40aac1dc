using Fisher.Data;
using TorchSharp;

namespace Fisher.EndToEnd.Tests;

/// <summary>
/// Issue acceptance 5: a model, architecture and data written by real PyTorch go through the fisher CLI (torch.save
/// and safetensors weights), the results load back into PyTorch with one tensor per parameter and quantity of the
/// parameter's shape, and the network the CLI builds gives PyTorch's outputs.
/// </summary>
public sealed class PyTorchRoundTripTests : IDisposable
{
    private static readonly string Script = Path.Combine(AppContext.BaseDirectory, "python", "roundtrip.py");
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("fisher-e2e-torch-");

    [Fact]
    public async Task PyTorch_files_round_trip_through_the_cli()
    {
        var probe = await TestProcess.Run(TestProcess.Python, ["-c", "import torch, numpy; print(torch.__version__)"], TestTimeouts.Job);
        Assert.True(probe.ExitCode == 0,
            $"{Requirements.Missing($"torch or numpy for {TestProcess.Python}", "python3-torch", "python3-numpy")}\n{probe.Describe()}");

        string dir = _folder.FullName;
        var made = await TestProcess.Run(TestProcess.Python, [Script, "make", dir], TestTimeouts.Job, dir);
        Assert.True(made.ExitCode == 0, made.Describe());

        string[] common = ["estimate", "--architecture", Path.Combine(dir, "model.json"), "--data", Path.Combine(dir, "inputs.npy"),
            "--labels", Path.Combine(dir, "labels.npy"), "--estimators", "all", "--shards", "2", "--no-progress"];
        string ptOut = Path.Combine(dir, "out-pt"), stOut = Path.Combine(dir, "out-safetensors");
        var fromPt = TestProcess.Fisher([.. common, "--model", Path.Combine(dir, "model.pt"), "--out", ptOut]);
        var fromSafetensors = TestProcess.Fisher([.. common, "--model", Path.Combine(dir, "model.safetensors"), "--out", stOut]);
        await Task.WhenAll(fromPt, fromSafetensors); // both processes have ended (or were killed) before anything is asserted
        var pt = await fromPt;
        var st = await fromSafetensors;
        Assert.True(pt.ExitCode == 0, pt.Describe());
        Assert.True(st.ExitCode == 0, st.Describe());

        // The same weights in both formats give the same results.
        var a = Safetensors.Read(Path.Combine(ptOut, "fisher.safetensors")).Tensors;
        var b = Safetensors.Read(Path.Combine(stOut, "fisher.safetensors")).Tensors;
        Assert.Equal(a.Keys.Order(StringComparer.Ordinal), b.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, expected) in a)
            ClusterTests.AssertClose(name, expected, b[name], 1e-6, "");

        // PyTorch reads the results back: every parameter has every estimate and its variance, with its shape.
        var check = await TestProcess.Run(TestProcess.Python, [Script, "check", Path.Combine(dir, "model.pt"), ptOut, stOut], TestTimeouts.Job, dir);
        Assert.True(check.ExitCode == 0 && check.Stdout.StartsWith("OK", StringComparison.Ordinal), check.Describe());

        // The network the CLI builds gives PyTorch's outputs (logits computed by torch in float64).
        torch.set_num_threads(1);
        var architecture = ModelArchitecture.Read(Path.Combine(dir, "model.json"));
        double[] inputs, logits;
        int features, classes;
        using (var data = Dataset.Open(Path.Combine(dir, "inputs.npy")))
        {
            features = data.Features;
            inputs = new double[data.Rows * features];
            data.ReadInputs(0, (int)data.Rows, inputs);
        }
        using (var data = Dataset.Open(Path.Combine(dir, "logits.npy")))
        {
            classes = data.Features;
            logits = new double[data.Rows * classes];
            data.ReadInputs(0, (int)data.Rows, logits);
        }
        Assert.Equal(20, features);
        Assert.Equal(3, classes);
        Assert.Equal(50 * 20, inputs.Length);
        foreach (var weights in new[] { "model.pt", "model.safetensors" })
        {
            using var scope = torch.NewDisposeScope();
            using var network = ModelLoader.Load(architecture, Path.Combine(dir, weights), torch.ScalarType.Float64);
            var x = torch.tensor(inputs, [50, 20], torch.ScalarType.Float64);
            var f = network.Forward(x).to(torch.ScalarType.Float64).contiguous();
            var actual = f.data<double>().ToArray();
            Assert.Equal(logits.Length, actual.Length);
            double worst = 0;
            for (int i = 0; i < actual.Length; i++)
                worst = Math.Max(worst, Math.Abs(actual[i] - logits[i]));
            Assert.True(worst <= 1e-5, $"{weights}: network.Forward differs from PyTorch's logits by up to {worst:G3}");
        }
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
