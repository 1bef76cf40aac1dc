using System.Globalization;
using Fisher.Estimators;
using Fisher.Estimators.Graph;

namespace Fisher.Data.Onnx;

/// <summary>One rule per ONNX op (ops that only begin a pattern are in OnnxGraphMapper.Patterns.cs).</summary>
internal sealed partial class OnnxGraphMapper
{
    private void MapNode(OnnxNode node)
    {
        if (node.Domain is not ("" or "ai.onnx"))
            throw Unsupported(node, $"domain '{OnnxNode.Shorten(node.Domain)}'");
        if (node.Outputs.Count == 0 || node.Outputs[0].Length == 0)
            throw Fail(node, "has no output");
        if (node.Attributes.Values.Any(a => a.HasGraph))
            throw Unsupported(node, "a subgraph attribute");
        switch (node.OpType)
        {
            case "Constant": MapConstant(node); break;
            case "Identity" or "Dropout": MapIdentity(node); break;
            case "Relu": AddActivation(node, Estimators.Activation.Relu); break;
            case "Tanh": AddActivation(node, Estimators.Activation.Tanh); break;
            case "Softplus": AddActivation(node, Estimators.Activation.Softplus); break;
            case "LeakyRelu": AddActivation(node, Estimators.Activation.LeakyRelu(Real(node, "alpha", 0.01))); break;
            case "Elu": AddActivation(node, Estimators.Activation.Elu(Real(node, "alpha", 1.0))); break;
            case "Sigmoid": MapSigmoid(node); break;
            case "Div": MapErfGelu(node); break;
            case "Gelu":
                if ((node.Attributes.GetValueOrDefault("approximate")?.S ?? "none") != "none")
                    throw Unsupported(node, "only the exact (erf) GELU");
                AddActivation(node, Estimators.Activation.Gelu);
                break;
            case "Gemm": MapGemm(node); break;
            case "Transpose": MapTranspose(node); break;
            case "MatMul": MapMatMul(node); break;
            case "Conv": MapConv(node); break;
            case "BatchNormalization": MapBatchNorm(node); break;
            case "MaxPool" or "AveragePool": MapPool(node); break;
            case "GlobalAveragePool":
                Add(node, new LayerSpec(LayerName(node, null), LayerOp.AdaptiveAvgPool2d, [Activation(node, 0)]) { OutputSize = [1, 1] });
                break;
            case "Flatten":
                if (Integer(node, "axis", 1) != 1)
                    throw Unsupported(node, "only axis 1");
                Add(node, new LayerSpec(LayerName(node, null), LayerOp.Flatten, [Activation(node, 0)]));
                break;
            case "Add": MapAdd(node); break;
            case "Shape" or "Gather" or "Unsqueeze" or "Concat" or "Reshape": MapShapeNode(node); break;
            default: throw Unsupported(node);
        }
    }

    private void AddActivation(OnnxNode node, Activation activation) =>
        Add(node, new LayerSpec(LayerName(node, null), LayerOp.Activation, [Activation(node, 0)]) { Activation = activation });

    private void MapConstant(OnnxNode node)
    {
        if (node.Outputs.Count != 1 || node.Outputs[0].Length == 0)
            throw Fail(node, "expected one output");
        var value = node.Attributes.GetValueOrDefault("value")?.T ?? throw Unsupported(node, "only a tensor 'value'");
        _constants[node.Outputs[0]] = value with { Name = node.Outputs[0] };
    }

    private void MapIdentity(OnnxNode node)
    {
        var input = OnnxNode.First(node.Inputs);
        if (_constants.TryGetValue(input, out var constant))
        {
            // torch stores equal initializers once and names the twin by an Identity: the twin keeps its own name
            _constants[node.Outputs[0]] = constant with { Name = node.Outputs[0] };
            return;
        }
        if (node.OpType == "Dropout" && node.Inputs.Count > 2 && Constant(node, 2, required: true)!.Longs is [not 0])
            throw Unsupported(node, "Dropout in training mode");
        if (_shapes.TryGetValue(input, out var shape))
        {
            _shapes[node.Outputs[0]] = shape;
            return;
        }
        Add(node, new LayerSpec(LayerName(node, null), LayerOp.Identity, [Activation(node, 0)]));
    }

    private void MapAdd(OnnxNode node)
    {
        if (node.Inputs.Count != 2 || !_activations.ContainsKey(node.Inputs[0]) || !_activations.ContainsKey(node.Inputs[1]))
            throw Unsupported(node, "Add of two layer outputs only (a bias Add follows a MatMul)");
        Add(node, new LayerSpec(LayerName(node, null), LayerOp.Add, [Activation(node, 0), Activation(node, 1)]));
    }

    private void MapConv(OnnxNode node)
    {
        var weight = Constant(node, 1, required: true)!;
        var bias = Constant(node, 2, required: false);
        if (weight.Dims.Length is not (3 or 4))
            throw Fail(node, $"weight '{OnnxNode.Shorten(weight.Name)}' has {weight.Dims.Length} dimensions; expected 3 (Conv1d) or 4 (Conv2d)");
        int dims = weight.Dims.Length - 2;
        CheckAutoPad(node);
        var tensors = new Dictionary<string, string>(StringComparer.Ordinal) { ["weight"] = weight.Name };
        if (bias is not null)
            tensors["bias"] = bias.Name;
        Add(node, new LayerSpec(LayerName(node, weight.Name), dims == 1 ? LayerOp.Conv1d : LayerOp.Conv2d, [Activation(node, 0)])
        {
            Kernel = Ints(node, "kernel_shape", dims, null),
            Stride = Ints(node, "strides", dims, 1),
            Padding = Pads(node, dims),
            Dilation = Ints(node, "dilations", dims, 1),
            Groups = checked((int)Integer(node, "group", 1)),
            Bias = bias is not null,
            Tensors = tensors,
        });
    }

    private void MapBatchNorm(OnnxNode node)
    {
        if (Integer(node, "training_mode", 0) != 0)
            throw Unsupported(node, "BatchNormalization in training mode; export the model in eval mode");
        string[] roles = ["weight", "bias", "running_mean", "running_var"];
        var tensors = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < roles.Length; i++)
            tensors[roles[i]] = Constant(node, i + 1, required: true)!.Name;
        Add(node, new LayerSpec(LayerName(node, tensors["weight"]), LayerOp.BatchNorm, [Activation(node, 0)])
        {
            Epsilon = Real(node, "epsilon", 1e-5),
            Tensors = tensors,
        });
    }

    private void MapPool(OnnxNode node)
    {
        CheckAutoPad(node);
        if (Integer(node, "ceil_mode", 0) != 0)
            throw Unsupported(node, "ceil_mode 1");
        if (Integer(node, "storage_order", 0) != 0)
            throw Unsupported(node, "storage_order 1");
        bool max = node.OpType == "MaxPool";
        Add(node, new LayerSpec(LayerName(node, null), max ? LayerOp.MaxPool2d : LayerOp.AvgPool2d, [Activation(node, 0)])
        {
            Kernel = Ints(node, "kernel_shape", 2, null),
            Stride = Ints(node, "strides", 2, 1),
            Padding = Pads(node, 2),
            Dilation = max ? Ints(node, "dilations", 2, 1) : null,
            CountIncludePad = Integer(node, "count_include_pad", 0) != 0,
        });
    }

    private void CheckAutoPad(OnnxNode node)
    {
        if ((node.Attributes.GetValueOrDefault("auto_pad")?.S ?? "NOTSET") != "NOTSET")
            throw Unsupported(node, "auto_pad; expected explicit pads");
    }

    /// <summary>An ints attribute of <paramref name="count"/> entries; its default when absent (null: required).</summary>
    private int[] Ints(OnnxNode node, string name, int count, int? fallback)
    {
        if (!node.Attributes.TryGetValue(name, out var a))
            return fallback is { } f ? [.. Enumerable.Repeat(f, count)] : throw Fail(node, $"attribute '{name}' is missing");
        if (a.Ints.Count != count || a.Ints.Any(v => v is < 0 or > int.MaxValue))
            throw Fail(node, $"attribute '{name}': [{string.Join(", ", a.Ints)}]; expected {count} non-negative values");
        return [.. a.Ints.Select(v => (int)v)];
    }

    /// <summary>ONNX pads (begin..., end...) as PyTorch's symmetric padding.</summary>
    private int[] Pads(OnnxNode node, int dims)
    {
        var pads = Ints(node, "pads", 2 * dims, 0);
        if (!pads.Take(dims).SequenceEqual(pads.Skip(dims)))
            throw Unsupported(node, $"asymmetric pads [{string.Join(", ", pads)}]");
        return [.. pads.Take(dims)];
    }

    private static long Integer(OnnxNode node, string name, long fallback) =>
        node.Attributes.TryGetValue(name, out var a) && a.I is { } i ? i : fallback;

    /// <summary>A float attribute as the double it was written from (the shortest decimal of the float32: 0.2, not 0.200000003).</summary>
    private static double Real(OnnxNode node, string name, double fallback) =>
        node.Attributes.TryGetValue(name, out var a) && a.F is { } f
            ? double.Parse(f.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)
            : fallback;
}
