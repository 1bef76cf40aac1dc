using Fisher.Estimators;
using Fisher.Estimators.Graph;
using TorchSharp;
using static TorchSharp.torch;

namespace Fisher.Bench;

/// <summary>
/// A convolutional network defined once and built twice: as the estimator's <see cref="NetworkSpec"/> and as plain
/// TorchSharp modules with the same layer names (the forward+backward baseline), whose state_dict the
/// <see cref="LayerGraph"/> is built from, so both compute the same function. BatchNorm runs in evaluation mode in both.
/// </summary>
internal sealed class CnnNetwork : nn.Module<Tensor, Tensor>
{
    private readonly List<(LayerSpec Spec, nn.Module<Tensor, Tensor>? Module)> _layers = [];
    private readonly long[] _inputShape;
    private readonly Dictionary<string, long[]> _shapes = new(StringComparer.Ordinal);

    private CnnNetwork(string name, long[] inputShape)
        : base(name)
    {
        _inputShape = inputShape;
        _shapes[NetworkSpec.InputName] = inputShape;
    }

    /// <summary>LeNet-5 on 28×28: conv5×5(6, pad 2)-tanh-maxpool2-conv5×5(16)-tanh-maxpool2-fc120-tanh-fc84-tanh-fc10.</summary>
    public static CnnNetwork LeNet()
    {
        var n = new CnnNetwork("lenet", [1, 28, 28]);
        var x = n.Conv("conv1", NetworkSpec.InputName, 6, 5, 1, 2, bias: true);
        x = n.Pool("pool1", n.Act("act1", x, Activation.Tanh));
        x = n.Conv("conv2", x, 16, 5, 1, 0, bias: true);
        x = n.Flat("flatten", n.Pool("pool2", n.Act("act2", x, Activation.Tanh)));
        x = n.Act("act3", n.Fc("fc1", x, 120), Activation.Tanh);
        x = n.Act("act4", n.Fc("fc2", x, 84), Activation.Tanh);
        n.Fc("fc3", x, 10);
        return n.Finish();
    }

    /// <summary>
    /// ResNet-8 on 28×28: conv3×3(16)-BN-ReLU, then three stages of one basic block each (16, 32, 64 channels; the
    /// last two stride 2 with a 1×1 convolution + BN projection), global average pooling, Linear(64, 10).
    /// </summary>
    public static CnnNetwork ResNet8()
    {
        var n = new CnnNetwork("resnet8", [1, 28, 28]);
        var x = n.Act("stem_relu", n.Bn("stem_bn", n.Conv("stem", NetworkSpec.InputName, 16, 3, 1, 1, bias: false)), Activation.Relu);
        x = n.Block("s1", x, 16, 1);
        x = n.Block("s2", x, 32, 2);
        x = n.Block("s3", x, 64, 2);
        x = n.Flat("flatten", n.Add(new LayerSpec("gap", LayerOp.AdaptiveAvgPool2d, [x]) { OutputSize = [1, 1] }, nn.AdaptiveAvgPool2d([1, 1]), [n._shapes[x][0], 1, 1]));
        n.Fc("fc", x, 10);
        return n.Finish();
    }

    /// <summary>The estimator's view of the network.</summary>
    public NetworkSpec Spec => new(_inputShape, _layers.Select(l => l.Spec).ToArray());

    /// <summary>The layer graph of this network's current weights in <paramref name="dtype"/>.</summary>
    public LayerGraph Graph(ScalarType dtype)
    {
        var tensors = state_dict();
        return LayerGraph.Build(Spec, tensors, dtype);
    }

    public override Tensor forward(Tensor input)
    {
        var outputs = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [NetworkSpec.InputName] = input.reshape([input.shape[0], .. _inputShape]) };
        foreach (var (spec, module) in _layers)
            outputs[spec.Name] = module is null ? outputs[spec.Inputs[0]] + outputs[spec.Inputs[1]] : module.forward(outputs[spec.Inputs[0]]);
        return outputs[_layers[^1].Spec.Name];
    }

    private string Block(string name, string x, long channels, int stride)
    {
        var y = Act($"{name}_relu1", Bn($"{name}_bn1", Conv($"{name}_conv1", x, channels, 3, stride, 1, bias: false)), Activation.Relu);
        y = Bn($"{name}_bn2", Conv($"{name}_conv2", y, channels, 3, 1, 1, bias: false));
        var skip = stride == 1 && _shapes[x][0] == channels ? x : Bn($"{name}_proj_bn", Conv($"{name}_proj", x, channels, 1, stride, 0, bias: false));
        var sum = Add(new LayerSpec($"{name}_add", LayerOp.Add, [y, skip]), null, _shapes[y]);
        return Act($"{name}_relu2", sum, Activation.Relu);
    }

    private string Conv(string name, string x, long channels, int kernel, int stride, int padding, bool bias)
    {
        var s = _shapes[x];
        long Out(long size) => ((size + (2 * padding) - kernel) / stride) + 1;
        var spec = new LayerSpec(name, LayerOp.Conv2d, [x]) { Kernel = [kernel, kernel], Stride = [stride, stride], Padding = [padding, padding], Bias = bias };
        return Add(spec, nn.Conv2d(s[0], channels, kernel, stride: stride, padding: padding, bias: bias), [channels, Out(s[1]), Out(s[2])]);
    }

    private string Bn(string name, string x)
    {
        var bn = nn.BatchNorm2d(_shapes[x][0]);
        using (no_grad())
        {
            // Non-trivial statistics and affine parameters, so the map is not the identity.
            bn.running_mean!.uniform_(-0.2, 0.2);
            bn.running_var!.uniform_(0.5, 1.5);
            bn.weight!.uniform_(0.5, 1.5);
            bn.bias!.uniform_(-0.2, 0.2);
        }
        return Add(new LayerSpec(name, LayerOp.BatchNorm, [x]), bn, _shapes[x]);
    }

    private string Pool(string name, string x)
    {
        var s = _shapes[x];
        return Add(new LayerSpec(name, LayerOp.MaxPool2d, [x]) { Kernel = [2, 2] }, nn.MaxPool2d(2), [s[0], s[1] / 2, s[2] / 2]);
    }

    private string Act(string name, string x, Activation activation) =>
        Add(new LayerSpec(name, LayerOp.Activation, [x]) { Activation = activation }, activation.Kind == ActivationKind.Tanh ? nn.Tanh() : nn.ReLU(), _shapes[x]);

    private string Flat(string name, string x) =>
        Add(new LayerSpec(name, LayerOp.Flatten, [x]), nn.Flatten(), [_shapes[x].Aggregate(1L, (a, b) => a * b)]);

    private string Fc(string name, string x, long outputs) =>
        Add(new LayerSpec(name, LayerOp.Linear, [x]), nn.Linear(_shapes[x][0], outputs), [outputs]);

    private string Add(LayerSpec spec, nn.Module<Tensor, Tensor>? module, long[] shape)
    {
        if (module is not null)
            register_module(spec.Name, module);
        _layers.Add((spec, module));
        _shapes[spec.Name] = shape;
        return spec.Name;
    }

    private CnnNetwork Finish()
    {
        eval();
        return this;
    }
}
