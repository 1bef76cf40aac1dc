using Xunit;
using Fisher.Estimators.Graph;
using static Fisher.Data.Tests.Onnx.ProtoWriter;

namespace Fisher.Data.Tests.Onnx;

/// <summary>
/// Issue 14 acceptance 2 (broken files): OnnxModel.Read on crafted ONNX files. A valid file maps to its layers with the
/// initializer names kept; every broken one gives one line that starts with the file and says what was expected.
/// </summary>
public sealed class OnnxReaderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("fisher-onnx-").FullName;

    public OnnxReaderTests() => Support.EnsureTorch();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(byte[] bytes)
    {
        var path = Path.Combine(_folder, "model.onnx");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Refused(byte[] bytes, string expected)
    {
        var path = Write(bytes);
        var e = Assert.Throws<DataFormatException>(() => OnnxModel.Read(path));
        Assert.StartsWith($"{path}: ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.True(e.Message.Contains(expected, StringComparison.Ordinal), $"expected '{expected}' in: {e.Message}");
        return e.Message;
    }

    [Fact]
    public void A_valid_file_maps_to_layers_named_by_their_initializers()
    {
        using var model = OnnxModel.Read(Write(Model()));
        Assert.Equal([4L], model.Spec.InputShape);
        Assert.Collection(model.Spec.Layers,
            fc => Assert.Equal(("fc", LayerOp.Linear, "fc.weight", "fc.bias"), (fc.Name, fc.Op, fc.TensorName("weight"), fc.TensorName("bias"))),
            relu => Assert.Equal(("/act/Relu", LayerOp.Activation), (relu.Name, relu.Op)));
        Assert.Equal(["fc.bias", "fc.weight"], model.Tensors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([3L, 4L], model.Tensors["fc.weight"].shape);
        Assert.Equal(0.2f, model.Tensors["fc.bias"][1].item<float>());
    }

    [Fact]
    public void Packed_dims_and_float_data_are_read_as_raw_data_is()
    {
        var values = Enumerable.Range(0, 12).Select(i => i * 0.5f).ToArray();
        var packed = new ProtoWriter().Bytes(1, [3, 4]).Varint(2, 1).Text(8, "fc.weight").Bytes(4, [.. values.SelectMany(BitConverter.GetBytes)]);
        using var model = OnnxModel.Read(Write(Model(initializers: [packed, Tensor("fc.bias", [3], new float[3])])));
        Assert.Equal([3L, 4L], model.Tensors["fc.weight"].shape);
        Assert.Equal(values, model.Tensors["fc.weight"].data<float>().ToArray());
        var truncated = new ProtoWriter().Bytes(1, [3, 0x84]).Varint(2, 1).Text(8, "fc.weight");
        Refused(Model(initializers: [truncated]), "TensorProto at byte");
    }

    [Fact]
    public void A_truncated_file_is_refused() => Refused(Model()[..^7], "runs past the end");

    [Fact]
    public void A_varint_of_eleven_bytes_is_refused() =>
        Refused([0x08, .. Enumerable.Repeat((byte)0xFF, 11), 0x01], "malformed");

    [Fact]
    public void A_length_past_the_end_is_refused() =>
        Refused([0x3A, 0xE8, 0x07, 0x0A, 0x00], "ModelProto at byte 3: field 7: length 1000 runs past the end of the ModelProto (2 bytes left)");

    [Fact]
    public void Huge_dims_are_refused_before_anything_is_allocated() =>
        Refused(Model(initializers: [Tensor("fc.weight", [1L << 40, 1L << 40], [1f])]), $"tensor 'fc.weight': dimension {1L << 40}; expected 0 to {ReaderLimits.MaxParameters}");

    [Fact]
    public void Dims_whose_product_overflows_the_cap_are_refused() =>
        Refused(Model(initializers: [Tensor("fc.weight", [1L << 20, 1L << 20], [1f])]), "hold more than");

    [Fact]
    public void Raw_data_shorter_than_the_dims_is_refused() =>
        Refused(Model(initializers: [Tensor("fc.weight", [3, 4], new float[10])]), "tensor 'fc.weight': raw_data has 40 bytes; its dims need 12 × 4");

    [Fact]
    public void An_unsupported_op_is_named_with_its_node() =>
        Refused(Model(nodes: [
            Node("/fc/Gemm", "Gemm", ["input", "fc.weight", "fc.bias"], ["z"], IntAttribute("transB", 1)),
            Node("/softmax/Softmax", "Softmax", ["z"], ["logits"]),
        ]), "node '/softmax/Softmax' (op Softmax) is not supported; supported: Conv");

    [Fact]
    public void A_weight_used_by_two_layers_is_refused() =>
        Refused(Model(initializers: [Tensor("fc.weight", [4, 4], new float[16]), Tensor("fc.bias", [4], new float[4])],
            outputs: [ValueInfo("logits", null, 4)],
            nodes: [
                Node("/fc/Gemm", "Gemm", ["input", "fc.weight", "fc.bias"], ["z"], IntAttribute("transB", 1)),
                Node("/fc/Gemm_1", "Gemm", ["z", "fc.weight", "fc.bias"], ["logits"], IntAttribute("transB", 1)),
            ]), "node '/fc/Gemm_1' (op Gemm): initializer 'fc.weight' is already used by layer 'fc'; shared (tied) weights are not supported");

    [Fact]
    public void A_node_reading_a_value_no_earlier_node_made_is_named() =>
        Refused(Model(nodes: [
            Node("/act/Relu", "Relu", ["z"], ["y"]),
            Node("/fc/Gemm", "Gemm", ["input", "fc.weight", "fc.bias"], ["z"], IntAttribute("transB", 1)),
        ]), "node '/act/Relu' (op Relu): input 0 'z' is not produced by an earlier node; expected a layer's output");

    [Fact]
    public void A_gemm_with_an_untransposed_weight_is_refused_with_the_export_hint() =>
        Refused(Model(nodes: [Node("/fc/Gemm", "Gemm", ["input", "fc.weight", "fc.bias"], ["logits"])]),
            "node '/fc/Gemm' (op Gemm) is not supported (Gemm needs transA 0 and transB 1, as nn.Linear exports it (export with do_constant_folding=False))");

    [Fact]
    public void External_data_is_refused()
    {
        var external = Tensor("fc.weight", [3, 4], new float[12]).Varint(14, 1);
        Refused(Model(initializers: [external, Tensor("fc.bias", [3], new float[3])]), "tensor 'fc.weight': its data is in an external file");
    }

    [Fact]
    public void Two_outputs_are_refused() =>
        Refused(Model(outputs: [ValueInfo("logits", null, 3), ValueInfo("z", null, 3)]), "graph: 2 outputs; expected one");

    [Fact]
    public void A_weight_whose_shape_differs_from_the_graph_is_named() =>
        Refused(Model(weightDims: [3, 5]), "tensor 'fc.weight': expected shape [out, 4], got [3, 5]");

    [Fact]
    public void Asymmetric_padding_is_refused()
    {
        var pads = new ProtoWriter().Text(1, "pads").Varint(20, 7);
        var kernel = new ProtoWriter().Text(1, "kernel_shape").Varint(20, 7).Varint(8, 2).Varint(8, 2);
        foreach (var p in new long[] { 0, 0, 1, 1 })
            pads.Varint(8, p);
        Refused(Model(nodes: [
            Node("/pool/MaxPool", "MaxPool", ["input"], ["logits"], pads, kernel),
        ]), "node '/pool/MaxPool' (op MaxPool) is not supported (asymmetric pads [0, 0, 1, 1])");
    }

    [Fact]
    public void A_file_over_the_size_cap_is_refused_before_it_is_read()
    {
        var path = Path.Combine(_folder, "huge.onnx");
        using (var f = File.Create(path))
            f.SetLength((long)ReaderLimits.MaxOnnxBytes + 1); // sparse: no disk used
        var e = Assert.Throws<DataFormatException>(() => OnnxModel.Read(path));
        Assert.Equal($"{path}: {(long)ReaderLimits.MaxOnnxBytes + 1} bytes; an ONNX file may have at most {ReaderLimits.MaxOnnxBytes}", e.Message);
    }
}
