using Fisher.Estimators;
using Fisher.Estimators.Graph;

namespace Fisher.Data.Onnx;

/// <summary>
/// The node patterns torch.onnx.export writes for one module: SiLU (Sigmoid, Mul), exact GELU (Div by √2, Erf, Add 1,
/// Mul x, Mul 0.5), Linear (Gemm; or Transpose of the weight, MatMul and Add of the bias) and view(batch, -1)
/// (Shape, Gather 0, Unsqueeze, Concat with -1, Reshape). Shape values track their entries; null is the batch size.
/// </summary>
internal sealed partial class OnnxGraphMapper
{
    private readonly Dictionary<string, long?[]> _shapes = new(StringComparer.Ordinal);
    private readonly HashSet<string> _fullShapes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OnnxTensor> _transposed = new(StringComparer.Ordinal);

    /// <summary>The only node reading <paramref name="value"/> when it is of <paramref name="op"/> (and the value is no graph output).</summary>
    private OnnxNode? SoleConsumer(string value, string op) =>
        _consumers.TryGetValue(value, out var list) && list.Count == 1 && list[0].OpType == op && !_claimed.Contains(list[0])
        && _graph.Outputs.All(o => o.Name != value) ? list[0] : null;

    private bool IsScalar(OnnxNode node, string other, double value)
    {
        var t = _constants.GetValueOrDefault(other);
        return t is { Count: 1 } && t.Reals is [var v] && Math.Abs(v - value) <= 1e-6 * Math.Max(1, Math.Abs(value)) && node.Inputs.Count == 2;
    }

    private static string Other(OnnxNode node, string value) => node.Inputs.Count == 2 ? (node.Inputs[0] == value ? node.Inputs[1] : node.Inputs[0]) : "";

    private void MapSigmoid(OnnxNode node)
    {
        var x = OnnxNode.First(node.Inputs);
        var mul = SoleConsumer(node.Outputs[0], "Mul");
        if (mul is not null && Other(mul, node.Outputs[0]) == x && _activations.ContainsKey(x))
        {
            _claimed.Add(mul);
            Add(node, new LayerSpec(LayerName(node, null), LayerOp.Activation, [Activation(node, 0)]) { Activation = Estimators.Activation.Silu }, mul);
            return;
        }
        AddActivation(node, Estimators.Activation.Sigmoid);
    }

    private void MapErfGelu(OnnxNode node)
    {
        var x = OnnxNode.First(node.Inputs);
        if (!_activations.ContainsKey(x) || node.Inputs.Count != 2 || !IsScalar(node, node.Inputs[1], Math.Sqrt(2)))
            throw Unsupported(node, "Div only as part of GELU's erf form x·(1 + erf(x/√2))/2");
        var erf = SoleConsumer(node.Outputs[0], "Erf");
        var plus = erf is null ? null : SoleConsumer(erf.Outputs[0], "Add");
        var times = plus is null || !IsScalar(plus, Other(plus, erf!.Outputs[0]), 1) ? null : SoleConsumer(plus.Outputs[0], "Mul");
        var half = times is null || Other(times, plus!.Outputs[0]) != x ? null : SoleConsumer(times.Outputs[0], "Mul");
        if (half is null || !IsScalar(half, Other(half, times!.Outputs[0]), 0.5))
            throw Unsupported(node, "Div only as part of GELU's erf form x·(1 + erf(x/√2))/2");
        _claimed.UnionWith([erf!, plus!, times!, half]);
        Add(node, new LayerSpec(LayerName(node, null), LayerOp.Activation, [Activation(node, 0)]) { Activation = Estimators.Activation.Gelu }, half);
    }

    private void MapGemm(OnnxNode node)
    {
        if (Integer(node, "transA", 0) != 0 || Integer(node, "transB", 0) != 1)
            throw Unsupported(node, "Gemm needs transA 0 and transB 1, as nn.Linear exports it (export with do_constant_folding=False)");
        if (Real(node, "alpha", 1) != 1 || Real(node, "beta", 1) != 1)
            throw Unsupported(node, "Gemm needs alpha 1 and beta 1");
        AddLinear(node, Constant(node, 1, required: true)!, Constant(node, 2, required: false), node);
    }

    private void MapTranspose(OnnxNode node)
    {
        var input = OnnxNode.First(node.Inputs);
        if (!_constants.TryGetValue(input, out var weight) || weight.Dims.Length != 2
            || node.Attributes.GetValueOrDefault("perm")?.Ints is { } perm && !perm.SequenceEqual([1L, 0L]))
            throw Unsupported(node, "Transpose only of a 2-d initializer feeding a MatMul (nn.Linear without constant folding)");
        _transposed[node.Outputs[0]] = weight;
    }

    private void MapMatMul(OnnxNode node)
    {
        if (node.Inputs.Count != 2 || !_transposed.TryGetValue(node.Inputs[1], out var weight))
            throw Unsupported(node, "MatMul only of a layer output by a transposed initializer, as nn.Linear exports it (export with do_constant_folding=False)");
        var add = SoleConsumer(node.Outputs[0], "Add");
        var bias = add is null ? null : _constants.GetValueOrDefault(Other(add, node.Outputs[0]));
        if (bias is { Dims.Length: 1 })
            _claimed.Add(add!);
        else
            (add, bias) = (null, null);
        AddLinear(node, weight, bias, add ?? node);
    }

    private void AddLinear(OnnxNode node, OnnxTensor weight, OnnxTensor? bias, OnnxNode last)
    {
        var tensors = new Dictionary<string, string>(StringComparer.Ordinal) { ["weight"] = weight.Name };
        if (bias is not null)
            tensors["bias"] = bias.Name;
        Add(node, new LayerSpec(LayerName(node, weight.Name), LayerOp.Linear, [Activation(node, 0)]) { Bias = bias is not null, Tensors = tensors }, last);
    }

    private void MapShapeNode(OnnxNode node)
    {
        var output = node.Outputs[0];
        switch (node.OpType)
        {
            case "Shape":
                Activation(node, 0);
                _fullShapes.Add(output);
                break;
            case "Gather":
                if (!_fullShapes.Contains(OnnxNode.First(node.Inputs)) || Integer(node, "axis", 0) != 0 || Constant(node, 1, required: true)!.Longs is not [0])
                    throw Unsupported(node, "Gather only of the batch size from a Shape");
                _shapes[output] = [null];
                break;
            case "Unsqueeze":
                var axes = node.Inputs.Count > 1 ? Constant(node, 1, required: true)!.Longs : node.Attributes.GetValueOrDefault("axes")?.Ints.ToArray();
                if (axes is not [0] || ShapeEntries(node, 0) is not { Length: 1 } one)
                    throw Unsupported(node, "Unsqueeze only of one shape entry");
                _shapes[output] = one;
                break;
            case "Concat":
                _shapes[output] = [.. node.Inputs.Select((_, i) => ShapeEntries(node, i) ?? throw Unsupported(node, "Concat only of shape entries")).SelectMany(e => e)];
                break;
            default:
                MapReshape(node);
                break;
        }
    }

    /// <summary>A shape value or an int64 constant as shape entries; null otherwise.</summary>
    private long?[]? ShapeEntries(OnnxNode node, int index)
    {
        var value = index < node.Inputs.Count ? node.Inputs[index] : "";
        if (_shapes.TryGetValue(value, out var entries))
            return entries;
        return _constants.TryGetValue(value, out var t) && t.Longs is { Length: <= 8 } longs ? [.. longs.Select(v => (long?)v)] : null;
    }

    /// <summary>Reshape to (batch, -1), which is a flatten: view(x.size(0), -1) or a constant [batch, -1].</summary>
    private void MapReshape(OnnxNode node)
    {
        var input = Activation(node, 0);
        if (ShapeEntries(node, 1) is not [var batch, -1] || batch is < 0)
            throw Unsupported(node, "Reshape only to (batch, -1), a flatten");
        Add(node, new LayerSpec(LayerName(node, null), LayerOp.Flatten, [input]));
    }
}
