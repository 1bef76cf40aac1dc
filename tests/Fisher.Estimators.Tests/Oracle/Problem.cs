using TorchSharp;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests.Oracle;

/// <summary>A tiny float64 problem: a Sequential MLP, a likelihood, inputs and observed labels.</summary>
public sealed record Problem(string Activation, int[] Widths, string Likelihood, double Variance = 0.7, double WeightScale = 1.6, int Batch = 4, long Seed = 1)
{
    public override string ToString() => $"{Activation} {string.Join("-", Widths)} {Likelihood}";

    public int Outputs => Widths[^1];

    /// <summary>The nn.Sequential (Linear, activation, Linear, ...) with seeded weights, float64.</summary>
    public nn.Module<Tensor, Tensor> BuildSequential()
    {
        var generator = new Generator((ulong)Seed);
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        int index = 0;
        for (int l = 1; l < Widths.Length; l++)
        {
            var linear = nn.Linear(Widths[l - 1], Widths[l], dtype: ScalarType.Float64);
            using (no_grad())
            {
                double bound = WeightScale / Math.Sqrt(Widths[l - 1]);
                linear.weight!.copy_((rand(linear.weight.shape, ScalarType.Float64, generator: generator) * 2 - 1) * bound);
                linear.bias!.copy_((rand(linear.bias.shape, ScalarType.Float64, generator: generator) * 2 - 1) * bound);
            }
            modules.Add(((index++).ToString(System.Globalization.CultureInfo.InvariantCulture), linear));
            if (l < Widths.Length - 1)
                modules.Add(((index++).ToString(System.Globalization.CultureInfo.InvariantCulture), ActivationModule(l - 1)));
        }
        return nn.Sequential(modules);
    }

    public Likelihood BuildLikelihood() => Estimators.Likelihood.Create(Likelihood, Outputs, Variance);

    /// <summary>Inputs (batch x width) from a seeded normal.</summary>
    public Tensor Inputs()
    {
        var generator = new Generator((ulong)Seed + 100);
        return randn(new long[] { Batch, Widths[0] }, ScalarType.Float64, generator: generator);
    }

    /// <summary>Valid observed labels for the likelihood.</summary>
    public Tensor ObservedLabels()
    {
        var generator = new Generator((ulong)Seed + 200);
        return Likelihood switch
        {
            "categorical" => randint(0, Outputs, new long[] { Batch }, ScalarType.Int64, generator: generator),
            "bernoulli" => randint(0, 2, new long[] { Batch, Outputs }, ScalarType.Int64, generator: generator).to(ScalarType.Float64),
            "poisson" => randint(0, 4, new long[] { Batch, Outputs }, ScalarType.Int64, generator: generator).to(ScalarType.Float64),
            _ => randn(new long[] { Batch, Outputs }, ScalarType.Float64, generator: generator),
        };
    }

    /// <summary>The activation after hidden layer <paramref name="hidden"/>; "relu,tanh" alternates per layer.</summary>
    private nn.Module<Tensor, Tensor> ActivationModule(int hidden)
    {
        var names = Activation.Split(',');
        return Module(names[hidden % names.Length]);
    }

    private static nn.Module<Tensor, Tensor> Module(string name) => name switch
    {
        "relu" => nn.ReLU(),
        "leaky_relu" => nn.LeakyReLU(0.1),
        "tanh" => nn.Tanh(),
        "sigmoid" => nn.Sigmoid(),
        "softplus" => nn.Softplus(),
        "gelu" => nn.GELU(),
        "silu" => nn.SiLU(),
        "identity" => nn.Identity(),
        _ => throw new ArgumentException(name),
    };
}
