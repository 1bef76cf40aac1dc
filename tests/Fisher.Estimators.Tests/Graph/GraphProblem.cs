using Fisher.Estimators.Graph;
using Fisher.Estimators.Tests.Oracle;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests.Graph;

/// <summary>
/// A tiny float64 graph problem from one description: the network (a <see cref="NetworkSpec"/> plus the output width
/// of each Conv and Linear layer), a likelihood, seeded inputs and observed labels. It builds the reference
/// (<see cref="SpecModule"/>, torch's modules) and the library's <see cref="LayerGraph"/> from that module's state_dict.
/// </summary>
public sealed record GraphProblem(string Title, NetworkSpec Spec, IReadOnlyDictionary<string, long> Widths, string Likelihood, int Batch = 3, ulong Seed = 1, double WeightScale = 1.6, double Variance = 0.7)
{
    public override string ToString() => $"{Title} {Likelihood}";

    public int Outputs => (int)Widths[Spec.Output.Name];

    public SpecModule BuildModule() => new(Spec, Widths, Seed, WeightScale);

    /// <summary>The library's graph from the module's state_dict, in <paramref name="dtype"/>.</summary>
    public static LayerGraph BuildGraph(SpecModule module, NetworkSpec spec, ScalarType dtype = ScalarType.Float64) =>
        LayerGraph.Build(spec, module.Tensors(), dtype);

    public Likelihood BuildLikelihood() => Estimators.Likelihood.Create(Likelihood, Outputs, Variance);

    public BruteForceOracle BuildOracle(SpecModule module) => new(module, Likelihood, Variance);

    /// <summary>Inputs (batch, *input shape) from a seeded normal.</summary>
    public Tensor Inputs(int? batch = null)
    {
        var generator = new Generator(Seed + 100);
        return randn([batch ?? Batch, .. Spec.InputShape], ScalarType.Float64, generator: generator);
    }

    /// <summary>Valid observed labels for the likelihood.</summary>
    public Tensor ObservedLabels(int? batch = null)
    {
        var generator = new Generator(Seed + 200);
        long n = batch ?? Batch;
        return Likelihood switch
        {
            "categorical" => randint(0, Outputs, [n], ScalarType.Int64, generator: generator),
            "bernoulli" => randint(0, 2, [n, Outputs], ScalarType.Int64, generator: generator).to(ScalarType.Float64),
            "poisson" => randint(0, 4, [n, Outputs], ScalarType.Int64, generator: generator).to(ScalarType.Float64),
            _ => randn([n, Outputs], ScalarType.Float64, generator: generator),
        };
    }

    /// <summary>The same network with another likelihood (and its number of outputs: the last layer's width).</summary>
    public GraphProblem With(string likelihood, int outputs)
    {
        var widths = new Dictionary<string, long>(Widths, StringComparer.Ordinal) { [Spec.Output.Name] = outputs };
        return this with { Likelihood = likelihood, Widths = widths };
    }
}

/// <summary>
/// Writes a <see cref="NetworkSpec"/> layer by layer: each call appends a layer named after its kind and position
/// (conv0, bn1, ...) that reads the current layer, and makes it current; <see cref="From"/> moves back to an earlier
/// layer (for residual branches).
/// </summary>
public sealed class NetBuilder(params long[] inputShape)
{
    private readonly List<LayerSpec> _layers = [];
    private readonly Dictionary<string, long> _widths = new(StringComparer.Ordinal);

    /// <summary>The current layer (the network input at first).</summary>
    public string Current { get; private set; } = NetworkSpec.InputName;

    public NetBuilder From(string layer)
    {
        Current = layer;
        return this;
    }

    public NetBuilder Linear(long outputs, bool bias = true) =>
        Append("fc", LayerOp.Linear, s => s with { Bias = bias }, outputs);

    public NetBuilder Conv2d(long channels, int kernel, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true) =>
        Append("conv", LayerOp.Conv2d, s => s with { Kernel = [kernel, kernel], Stride = [stride, stride], Padding = [padding, padding], Dilation = [dilation, dilation], Groups = groups, Bias = bias }, channels);

    /// <summary>A Conv2d with separate height and width attributes.</summary>
    public NetBuilder Conv2d(long channels, int[] kernel, int[] stride, int[] padding, int[] dilation, int groups = 1, bool bias = true) =>
        Append("conv", LayerOp.Conv2d, s => s with { Kernel = kernel, Stride = stride, Padding = padding, Dilation = dilation, Groups = groups, Bias = bias }, channels);

    public NetBuilder Conv1d(long channels, int kernel, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = true) =>
        Append("conv", LayerOp.Conv1d, s => s with { Kernel = [kernel], Stride = [stride], Padding = [padding], Dilation = [dilation], Groups = groups, Bias = bias }, channels);

    public NetBuilder MaxPool(int kernel, int? stride = null, int padding = 0, int dilation = 1) =>
        Append("maxpool", LayerOp.MaxPool2d, s => s with { Kernel = [kernel, kernel], Stride = stride is { } t ? [t, t] : null, Padding = [padding, padding], Dilation = [dilation, dilation] });

    public NetBuilder AvgPool(int kernel, int? stride = null, int padding = 0, bool countIncludePad = true) =>
        Append("avgpool", LayerOp.AvgPool2d, s => s with { Kernel = [kernel, kernel], Stride = stride is { } t ? [t, t] : null, Padding = [padding, padding], CountIncludePad = countIncludePad });

    public NetBuilder AdaptiveAvgPool(int height, int width) =>
        Append("adapool", LayerOp.AdaptiveAvgPool2d, s => s with { OutputSize = [height, width] });

    public NetBuilder Flatten() => Append("flatten", LayerOp.Flatten, s => s);

    /// <summary>BatchNorm1d/2d in eval mode (the reference picks the module by the input's rank).</summary>
    public NetBuilder BatchNorm(bool affine = true, double epsilon = 1e-5) =>
        Append("bn", LayerOp.BatchNorm, s => s with { Bias = affine, Epsilon = epsilon });

    public NetBuilder Identity() => Append("identity", LayerOp.Identity, s => s);

    /// <summary>Dropout: Identity in the spec, nn.Dropout(0.5) in eval mode in the reference.</summary>
    public NetBuilder Dropout() => Append("drop", LayerOp.Identity, s => s);

    public NetBuilder Act(Activation activation) => Append("act", LayerOp.Activation, s => s with { Activation = activation });

    public NetBuilder Act(string name) => Act(name == "elu" ? Activation.Elu(0.8) : name == "leaky_relu" ? Activation.LeakyRelu(0.1) : Activation.Parse(name));

    /// <summary>current + <paramref name="other"/>.</summary>
    public NetBuilder Add(string other)
    {
        string name = $"add{_layers.Count}";
        _layers.Add(new LayerSpec(name, LayerOp.Add, [Current, other]));
        Current = name;
        return this;
    }

    /// <summary>
    /// A ResNet basic block on the current layer: conv3×3(stride) → BN → act → conv3×3 → BN, plus the shortcut (the
    /// input itself, or a 1×1 convolution with the stride and BN when <paramref name="project"/>), then act.
    /// </summary>
    public NetBuilder BasicBlock(long channels, int stride, bool project, string activation = "relu")
    {
        string input = Current;
        Conv2d(channels, 3, stride, 1, bias: false).BatchNorm().Act(activation).Conv2d(channels, 3, 1, 1, bias: false).BatchNorm();
        string main = Current;
        string shortcut = input;
        if (project)
            shortcut = From(input).Conv2d(channels, 1, stride, bias: false).BatchNorm().Current;
        return From(main).Add(shortcut).Act(activation);
    }

    public GraphProblem Problem(string title, string likelihood, int outputs, int batch = 3, ulong seed = 1, double weightScale = 1.6)
    {
        Linear(outputs);
        return new GraphProblem(title, new NetworkSpec(inputShape, [.. _layers]), _widths, likelihood, batch, seed, weightScale);
    }

    private NetBuilder Append(string kind, LayerOp op, Func<LayerSpec, LayerSpec> attributes, long width = 0)
    {
        string name = $"{kind}{_layers.Count}";
        _layers.Add(attributes(new LayerSpec(name, op, [Current])));
        if (width > 0)
            _widths[name] = width;
        Current = name;
        return this;
    }
}
