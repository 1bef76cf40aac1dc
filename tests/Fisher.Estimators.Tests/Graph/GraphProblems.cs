namespace Fisher.Estimators.Tests.Graph;

/// <summary>
/// The table of tiny graph problems the oracle tests run: every layer kind and attribute (strided, padded, dilated,
/// grouped and bias-free convolutions in 1-d and 2-d, max and average pooling with padding and both count_include_pad,
/// global and non-trivial adaptive pooling, Flatten, eval BatchNorm 1d/2d with and without affine parameters, ResNet
/// basic blocks with and without projection, Identity and Dropout), every activation, and every likelihood.
/// Inputs are a few channels of at most 7×7 and parameters a few hundred at most, so the oracle's double backward per
/// parameter stays fast.
/// </summary>
public static class GraphProblems
{
    public static IEnumerable<GraphProblem> Layers()
    {
        yield return new NetBuilder(2, 5, 5).Conv2d(3, 3, padding: 1).Act("tanh").MaxPool(2).Flatten()
            .Problem("conv3x3 pad1 + tanh + maxpool2", "categorical", 3);
        yield return new NetBuilder(2, 5, 5).Conv2d(3, 3, stride: 2, padding: 1, bias: false).Act("sigmoid").Flatten()
            .Problem("conv3x3 stride2 pad1 no-bias + sigmoid", "categorical", 3, seed: 2);
        yield return new NetBuilder(2, 6, 6).Conv2d(4, 2, dilation: 2, groups: 2).Act("softplus").AvgPool(2).Flatten()
            .Problem("conv2x2 dilation2 groups2 + softplus + avgpool2", "categorical", 3, seed: 3);
        yield return new NetBuilder(2, 5, 6).Conv2d(3, [2, 3], [2, 1], [1, 0], [1, 2]).Act("gelu").Flatten().Linear(4, bias: false).Act("tanh")
            .Problem("conv kernel(2,3) stride(2,1) pad(1,0) dilation(1,2) + gelu + fc no-bias", "categorical", 3, seed: 4);
        yield return new NetBuilder(4, 5, 5).Conv2d(4, 3, padding: 1, groups: 4, bias: false).Act("silu").Conv2d(2, 1, groups: 2).Act("tanh").Flatten()
            .Problem("depthwise conv3x3 + grouped 1x1 conv", "categorical", 3, seed: 5);
        yield return new NetBuilder(2, 7).Conv1d(3, 3, stride: 2, padding: 1).Act("elu").Conv1d(2, 2, dilation: 2, bias: false).Act("silu").Flatten()
            .Problem("conv1d stride2 pad1 + elu + conv1d dilation2 no-bias", "categorical", 3, seed: 6);
        yield return new NetBuilder(4, 6).Conv1d(4, 3, padding: 1, groups: 2).BatchNorm().Act("tanh").Flatten()
            .Problem("conv1d groups2 + batchnorm1d (N,C,L)", "categorical", 3, seed: 7);
        yield return new NetBuilder(2, 6, 6).Conv2d(2, 3, padding: 1).Act("relu").MaxPool(3, stride: 2, padding: 1).Act("tanh").Flatten()
            .Problem("maxpool3 stride2 pad1", "categorical", 3, seed: 8);
        yield return new NetBuilder(2, 5, 5).Conv2d(2, 2).Act("sigmoid").MaxPool(2, stride: 1, dilation: 2).Flatten()
            .Problem("maxpool2 stride1 dilation2", "categorical", 3, seed: 9);
        yield return new NetBuilder(2, 5, 5).Conv2d(3, 3, padding: 1).Act("tanh").AvgPool(3, stride: 2, padding: 1, countIncludePad: true).Flatten()
            .Problem("avgpool3 stride2 pad1 count_include_pad", "categorical", 3, seed: 10);
        yield return new NetBuilder(2, 5, 5).Conv2d(3, 3, padding: 1).Act("tanh").AvgPool(3, stride: 2, padding: 1, countIncludePad: false).Flatten()
            .Problem("avgpool3 stride2 pad1 exclude pad", "categorical", 3, seed: 11);
        yield return new NetBuilder(2, 5, 5).Conv2d(3, 3).Act("silu").AdaptiveAvgPool(1, 1).Flatten()
            .Problem("global adaptive avgpool", "categorical", 3, seed: 12);
        yield return new NetBuilder(2, 5, 5).Conv2d(2, 2, padding: 1).Act("softplus").AdaptiveAvgPool(2, 3).Flatten()
            .Problem("adaptive avgpool 6x6 -> (2,3)", "categorical", 3, seed: 13);
        yield return new NetBuilder(2, 5, 5).Conv2d(3, 3).BatchNorm().Act("tanh").Flatten().Linear(4).BatchNorm().Act("sigmoid")
            .Problem("batchnorm2d + fc + batchnorm1d (N,F)", "categorical", 3, seed: 14);
        yield return new NetBuilder(2, 4, 4).Conv2d(2, 3, padding: 1).BatchNorm(affine: false).Act("gelu").Flatten()
            .Problem("batchnorm2d without affine", "categorical", 3, seed: 15);
        yield return new NetBuilder(2, 4, 4).Conv2d(2, 1).BasicBlock(2, 1, project: false, "tanh").AdaptiveAvgPool(2, 2).Flatten()
            .Problem("basic block (identity shortcut), tanh", "categorical", 3, seed: 16);
        yield return new NetBuilder(2, 5, 5).BasicBlock(3, 2, project: true, "tanh").AdaptiveAvgPool(1, 1).Flatten()
            .Problem("basic block (1x1 projection, stride 2), tanh", "categorical", 3, seed: 17);
        yield return new NetBuilder(2, 4, 4).Conv2d(2, 1).BasicBlock(2, 1, project: false).AdaptiveAvgPool(2, 2).Flatten()
            .Problem("basic block (identity shortcut), relu", "categorical", 3, seed: 18);
        // Curvature of the upper activation walks down through the lower one (and through BatchNorm) as a diagonal.
        yield return new NetBuilder(2, 4, 4).Conv2d(2, 3, padding: 1).Act("softplus").Act("tanh").Flatten()
            .Problem("stacked activations softplus -> tanh", "categorical", 3, seed: 20);
        yield return new NetBuilder(2, 4, 4).Conv2d(2, 3, padding: 1).BatchNorm().Act("leaky_relu").BatchNorm().Act("tanh").Flatten().Linear(3).Act("silu")
            .Problem("batchnorm between activations", "categorical", 3, seed: 21);
        yield return new NetBuilder(2, 4, 4).Conv2d(3, 3, padding: 1).Identity().Act("tanh").Dropout().Flatten().Dropout()
            .Problem("identity + dropout", "categorical", 3, seed: 19);
    }

    /// <summary>One small CNN per activation (two activations each, so hidden curvature passes through another).</summary>
    public static IEnumerable<GraphProblem> Activations()
    {
        ulong seed = 30;
        foreach (var name in new[] { "relu", "leaky_relu", "elu", "tanh", "sigmoid", "softplus", "silu", "gelu" })
        {
            yield return new NetBuilder(1, 4, 4).Conv2d(2, 3, padding: 1).Act(name).Conv2d(2, 2, stride: 2).Act(name).Flatten()
                .Problem($"cnn {name}", "categorical", 3, seed: seed++);
        }
    }

    /// <summary>A residual BatchNorm CNN with a smooth activation under each likelihood, and a ReLU max-pool CNN under each.</summary>
    public static IEnumerable<GraphProblem> Likelihoods()
    {
        foreach (var (likelihood, index) in new[] { "categorical", "gaussian", "bernoulli", "poisson" }.Select((l, i) => (l, (ulong)i)))
        {
            int outputs = likelihood == "categorical" ? 3 : 2;
            yield return new NetBuilder(2, 5, 5).BasicBlock(3, 2, project: true, "softplus").AdaptiveAvgPool(1, 1).Flatten()
                .Problem("residual softplus CNN", likelihood, outputs, seed: 40 + index, weightScale: 1.2);
            yield return new NetBuilder(2, 6, 6).Conv2d(3, 3, padding: 1).BatchNorm().Act("relu").MaxPool(2).Conv2d(2, 2).Act("leaky_relu").Flatten()
                .Problem("relu/leaky maxpool CNN", likelihood, outputs, seed: 50 + index, weightScale: 1.2);
        }
    }

    public static IEnumerable<GraphProblem> All() => Layers().Concat(Activations()).Concat(Likelihoods());
}
