using Fisher.Estimators.Graph;
using TorchSharp;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests.Graph;

/// <summary>
/// The reference side of a graph problem: a float64 TorchSharp module that runs a <see cref="NetworkSpec"/> with
/// torch's own modules (nn.Conv2d, nn.BatchNorm2d in eval mode, nn.AvgPool2d, ...), registered under the layer names,
/// so its state_dict keys are the names <see cref="LayerGraph.Build"/> reads and its parameters are what autograd
/// differentiates. Residual sums are a plain a + b in <see cref="forward"/>. Nothing of the library runs here.
/// </summary>
public sealed class SpecModule : nn.Module<Tensor, Tensor>
{
    private readonly NetworkSpec _spec;
    private readonly Dictionary<string, nn.Module<Tensor, Tensor>> _modules = new(StringComparer.Ordinal);

    /// <param name="spec">The network.</param>
    /// <param name="widths">Output channels or features of each Conv and Linear layer, by name.</param>
    /// <param name="seed">Seed of the weights, biases and BatchNorm running statistics.</param>
    /// <param name="weightScale">Weights are uniform in ±scale/√fan-in.</param>
    public SpecModule(NetworkSpec spec, IReadOnlyDictionary<string, long> widths, ulong seed, double weightScale)
        : base("SpecModule")
    {
        _spec = spec;
        var generator = new Generator(seed);
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal) { [NetworkSpec.InputName] = [.. spec.InputShape] };
        foreach (var layer in spec.Layers)
        {
            var input = shapes[layer.Inputs[0]];
            if (layer.Op == LayerOp.Add)
            {
                shapes[layer.Name] = input;
                continue;
            }
            var module = Create(layer, input, widths.TryGetValue(layer.Name, out var w) ? w : 0);
            Initialise(module, generator, weightScale);
            module.eval(); // the shape probe below must not update BatchNorm's running statistics
            register_module(layer.Name, module);
            _modules[layer.Name] = module;
            using (no_grad())
            using (var probe = zeros([1, .. input], ScalarType.Float64))
            using (var output = module.forward(probe))
                shapes[layer.Name] = output.shape.Skip(1).ToArray();
        }
        eval();
    }

    /// <summary>f for a batch (batch, *input shape).</summary>
    public override Tensor forward(Tensor x)
    {
        var values = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [NetworkSpec.InputName] = x };
        foreach (var layer in _spec.Layers)
        {
            var a = values[layer.Inputs[0]];
            values[layer.Name] = layer.Op == LayerOp.Add ? a + values[layer.Inputs[1]] : _modules[layer.Name].forward(a);
        }
        return values[_spec.Output.Name];
    }

    /// <summary>The module's tensors by state_dict name (parameters and BatchNorm running statistics).</summary>
    public Dictionary<string, Tensor> Tensors() => state_dict();

    private static nn.Module<Tensor, Tensor> Create(LayerSpec layer, long[] input, long width)
    {
        const ScalarType F64 = ScalarType.Float64;
        (long, long) Pair(IReadOnlyList<int>? v, long fallback) => v is null ? (fallback, fallback) : (v[0], v[1]);
        switch (layer.Op)
        {
            case LayerOp.Linear:
                return nn.Linear(input[0], width, hasBias: layer.Bias, dtype: F64);
            case LayerOp.Conv1d:
                return nn.Conv1d(input[0], width, layer.Kernel![0], stride: layer.Stride?[0] ?? 1, padding: layer.Padding?[0] ?? 0,
                    dilation: layer.Dilation?[0] ?? 1, groups: layer.Groups, bias: layer.Bias, dtype: F64);
            case LayerOp.Conv2d:
                return nn.Conv2d(input[0], width, Pair(layer.Kernel, 1), stride: Pair(layer.Stride, 1), padding: Pair(layer.Padding, 0),
                    dilation: Pair(layer.Dilation, 1), groups: layer.Groups, bias: layer.Bias, dtype: F64);
            case LayerOp.MaxPool2d:
                return nn.MaxPool2d(Pair(layer.Kernel, 1), stride: layer.Stride is null ? null : Pair(layer.Stride, 1),
                    padding: Pair(layer.Padding, 0), dilation: Pair(layer.Dilation, 1));
            case LayerOp.AvgPool2d:
                return nn.AvgPool2d(Pair(layer.Kernel, 1), stride: layer.Stride is null ? null : Pair(layer.Stride, 1),
                    padding: Pair(layer.Padding, 0), count_include_pad: layer.CountIncludePad);
            case LayerOp.AdaptiveAvgPool2d:
                return nn.AdaptiveAvgPool2d(Pair(layer.OutputSize, 1));
            case LayerOp.Flatten:
                return nn.Flatten();
            case LayerOp.BatchNorm:
                return input.Length == 3
                    ? nn.BatchNorm2d(input[0], eps: layer.Epsilon, affine: layer.Bias, dtype: F64)
                    : nn.BatchNorm1d(input[0], eps: layer.Epsilon, affine: layer.Bias, dtype: F64);
            case LayerOp.Identity:
                return layer.Name.StartsWith("drop", StringComparison.Ordinal) ? nn.Dropout(0.5) : nn.Identity();
            case LayerOp.Activation:
                return ActivationModule(layer.Activation!);
            default:
                throw new ArgumentException($"no reference module for {layer.Op}");
        }
    }

    private static nn.Module<Tensor, Tensor> ActivationModule(Activation activation) => activation.Kind switch
    {
        ActivationKind.Identity => nn.Identity(),
        ActivationKind.Relu => nn.ReLU(),
        ActivationKind.LeakyRelu => nn.LeakyReLU(activation.NegativeSlope),
        ActivationKind.Elu => nn.ELU(activation.Alpha),
        ActivationKind.Tanh => nn.Tanh(),
        ActivationKind.Sigmoid => nn.Sigmoid(),
        ActivationKind.Softplus => nn.Softplus(),
        ActivationKind.Silu => nn.SiLU(),
        ActivationKind.Gelu => nn.GELU(),
        _ => throw new ArgumentException($"no reference module for {activation.Kind}"),
    };

    /// <summary>
    /// Seeded values: weights uniform in ±scale/√fan-in, biases in ±0.5; BatchNorm γ in [0.5, 1.5], β in ±0.3, running
    /// means in ±0.5 and running variances in [0.3, 1.8] (so eval mode is a genuine affine map, not the identity).
    /// </summary>
    private static void Initialise(nn.Module<Tensor, Tensor> module, Generator generator, double scale)
    {
        bool batchNorm = module is TorchSharp.Modules.BatchNorm1d or TorchSharp.Modules.BatchNorm2d;
        Tensor Uniform(Tensor like, double low, double high) =>
            rand(like.shape, ScalarType.Float64, generator: generator) * (high - low) + low;
        using var noGrad = no_grad();
        foreach (var (name, p) in module.named_parameters())
        {
            if (batchNorm)
                p.copy_(name == "weight" ? Uniform(p, 0.5, 1.5) : Uniform(p, -0.3, 0.3));
            else if (p.dim() > 1)
            {
                double bound = scale / Math.Sqrt(p.numel() / p.shape[0]);
                p.copy_(Uniform(p, -bound, bound));
            }
            else
                p.copy_(Uniform(p, -0.5, 0.5));
        }
        foreach (var (name, b) in module.named_buffers())
        {
            if (name == "running_mean")
                b.copy_(Uniform(b, -0.5, 0.5));
            else if (name == "running_var")
                b.copy_(Uniform(b, 0.3, 1.8));
        }
    }
}
