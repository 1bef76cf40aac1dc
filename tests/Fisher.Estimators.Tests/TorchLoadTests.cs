using Fisher.Build;
using TorchSharp;
using Xunit;

namespace Fisher.Estimators.Tests;

/// <summary>
/// The build step of Directory.Build.targets must leave a TorchSharp that loads on this machine: if the
/// libLibTorchSharp.so copy needs a libstdc++ version the system lacks, that need must be weak.
/// </summary>
public sealed class TorchLoadTests
{
    [Fact]
    public void TorchSharpLoadsAndComputes()
    {
        TorchRuntime.Ensure();
        using var a = torch.ones(2, 3, dtype: torch.ScalarType.Float64);
        using var b = a.sum();
        Assert.Equal(6.0, b.item<double>());
    }

    [Fact]
    public void NativeShimInOutputHasNoStrongNeedTheSystemLacks()
    {
        string? shim = new[] { "libLibTorchSharp.so", "runtimes/linux-x64/native/libLibTorchSharp.so" }
            .Select(p => Path.Combine(AppContext.BaseDirectory, p)).FirstOrDefault(File.Exists);
        string? system = ElfVersionNeedPatcher.FindSystemLibStdCxx();
        if (!OperatingSystem.IsLinux())
            return; // the patch is Linux-only
        Assert.NotNull(shim);
        Assert.NotNull(system);
        var provided = ElfVersionNeedPatcher.VersionsDefinedBy(system!);
        var needs = ElfVersionNeedPatcher.ReadVersionNeeds(File.ReadAllBytes(shim!));
        Assert.Contains(needs, n => n.File == "libstdc++.so.6");
        var strongMissing = needs.Where(n => n.File == "libstdc++.so.6" && !n.Weak && !provided(n.Version)).Select(n => n.Version).ToList();
        Assert.Empty(strongMissing);
    }

    [Fact]
    public void PatcherWeakensOnlyMissingVersionsAndIsIdempotent()
    {
        string source = Path.Combine(AppContext.BaseDirectory, "runtimes/linux-x64/native/libLibTorchSharp.so");
        if (!File.Exists(source))
            source = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        Assert.True(File.Exists(source), $"no native shim at {source}");
        string copy = Path.Combine(Path.GetTempPath(), $"shim-{Guid.NewGuid():N}.so");
        File.Copy(source, copy);
        try
        {
            var before = ElfVersionNeedPatcher.ReadVersionNeeds(File.ReadAllBytes(copy));
            var target = before.First(n => n.File == "libstdc++.so.6").Version;
            // Pretend the system lacks exactly one version that the file needs.
            var changed = ElfVersionNeedPatcher.WeakenMissing(copy, "libstdc++.so.6", v => v != target);
            var after = ElfVersionNeedPatcher.ReadVersionNeeds(File.ReadAllBytes(copy));
            Assert.True(after.Single(n => n.File == "libstdc++.so.6" && n.Version == target).Weak);
            foreach (var need in after.Where(n => n.Version != target))
                Assert.Equal(before.Single(b => b.File == need.File && b.Version == need.Version).Weak, need.Weak);
            Assert.True(changed.Count <= 1);
            Assert.Empty(ElfVersionNeedPatcher.WeakenMissing(copy, "libstdc++.so.6", v => v != target));
        }
        finally
        {
            File.Delete(copy);
        }
    }
}
