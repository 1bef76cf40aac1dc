using Fisher.Data;

namespace Fisher.EndToEnd.Tests;

/// <summary>Comparisons of result folders (shared with the deployment tests).</summary>
public static class ResultAssert
{
    /// <summary>The same tensor names, shapes and float32 values in both folders' fisher.safetensors, bit for bit.</summary>
    public static void BitIdentical(string expectedFolder, string actualFolder, string expectedName)
    {
        var expected = Safetensors.Read(Path.Combine(expectedFolder, "fisher.safetensors")).Tensors;
        var actual = Safetensors.Read(Path.Combine(actualFolder, "fisher.safetensors")).Tensors;
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, tensor) in expected)
        {
            Assert.Equal(tensor.Shape, actual[name].Shape);
            int differing = tensor.Data.Zip(actual[name].Data).Count(p => BitConverter.SingleToInt32Bits((float)p.First) != BitConverter.SingleToInt32Bits((float)p.Second));
            Assert.True(differing == 0, $"{name}: {differing} of {tensor.Data.Length} values differ from the {expectedName}");
        }
    }
}
