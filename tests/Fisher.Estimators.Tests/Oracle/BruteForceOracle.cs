using TorchSharp;
using static TorchSharp.torch;

namespace Fisher.Estimators.Tests.Oracle;

/// <summary>Exact per-input quantities from enumerating labels: I, V1, V2 and the label means of both terms.</summary>
public sealed record ExactTerms(double[] Fisher, double[] ScoreVariance, double[] HessianVariance, double[] MeanSquaredScore, double[] MeanNegativeHessian);

/// <summary>
/// Brute-force float64 reference, independent of the library's formulas: per-sample autograd gradients and
/// Hessian diagonals (double backward, one Hessian row per parameter) of a TorchSharp module (an MLP Sequential or a graph's SpecModule), explicit
/// log-densities, and exact expectations over labels (enumeration of classes and bit vectors, truncated Poisson
/// sums, Gauss–Hermite quadrature that is exact for the polynomials involved).
/// </summary>
public sealed class BruteForceOracle
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly TorchSharp.Modules.Parameter[] _parameters;
    private readonly string _likelihood;
    private readonly double _variance;

    public BruteForceOracle(nn.Module<Tensor, Tensor> model, string likelihood, double variance)
    {
        _model = model;
        _parameters = model.parameters().ToArray();
        _likelihood = likelihood;
        _variance = variance;
        Names = model.named_parameters().Select(p => p.name).ToArray();
        Sizes = _parameters.Select(p => (int)p.numel()).ToArray();
    }

    public string[] Names { get; }

    public int[] Sizes { get; }

    public int Count => Sizes.Sum();

    /// <summary>The slice of a flat parameter vector that belongs to parameter <paramref name="name"/>.</summary>
    public double[] Slice(double[] flat, string name)
    {
        int index = Array.IndexOf(Names, name);
        int offset = Sizes.Take(index).Sum();
        return flat.Skip(offset).Take(Sizes[index]).ToArray();
    }

    /// <summary>f(x), the output Jacobian J[o][i] and the Hessian diagonals H[o][i] of each output.</summary>
    public (double[] F, double[][] J, double[][] H) NetworkDerivatives(Tensor x)
    {
        using var scope = NewDisposeScope();
        var f = _model.forward(x.unsqueeze(0))[0];
        int outputs = (int)f.shape[0];
        var values = f.detach().data<double>().ToArray();
        var jacobian = new double[outputs][];
        var hessian = new double[outputs][];
        for (int o = 0; o < outputs; o++)
            (jacobian[o], hessian[o]) = GradientAndHessianDiagonal(f[o]);
        return (values, jacobian, hessian);
    }

    /// <summary>Score and negative Hessian diagonal of ℓ(θ; x, y) by autograd on the explicit log-density.</summary>
    public (double[] Score, double[] NegativeHessian) Direct(Tensor x, double[] label)
    {
        using var scope = NewDisposeScope();
        var f = _model.forward(x.unsqueeze(0))[0];
        var (gradient, hessian) = GradientAndHessianDiagonal(LogDensity(f, label));
        return (gradient, hessian.Select(h => -h).ToArray());
    }

    /// <summary>Labels with their probabilities (or quadrature weights) under p(y | f).</summary>
    public IReadOnlyList<(double[] Label, double Weight)> Labels(double[] f)
    {
        int k = f.Length;
        switch (_likelihood)
        {
            case "categorical":
            {
                var p = Softmax(f);
                return Enumerable.Range(0, k).Select(c => (new double[] { c }, p[c])).ToArray();
            }
            case "bernoulli":
            {
                var p = f.Select(v => 1 / (1 + Math.Exp(-v))).ToArray();
                return Product(Enumerable.Range(0, k).Select(o => new[] { (0.0, 1 - p[o]), (1.0, p[o]) }).ToArray());
            }
            case "poisson":
            {
                return Product(f.Select(v =>
                {
                    double rate = Math.Exp(v);
                    int max = (int)Math.Ceiling(rate + 14 * Math.Sqrt(rate) + 20);
                    var list = new List<(double, double)>();
                    double pmf = Math.Exp(-rate);
                    for (int y = 0; y <= max; y++)
                    {
                        list.Add((y, pmf));
                        pmf *= rate / (y + 1);
                    }
                    return list.ToArray();
                }).ToArray());
            }
            case "gaussian":
            {
                // 3-point Gauss–Hermite for N(0, 1): exact for polynomials of degree ≤ 5 (score⁴ has degree 4).
                double s = Math.Sqrt(_variance), r3 = Math.Sqrt(3);
                return Product(f.Select(mu => new[] { (mu - s * r3, 1.0 / 6), (mu, 2.0 / 3), (mu + s * r3, 1.0 / 6) }).ToArray());
            }
            default:
                throw new ArgumentException(_likelihood);
        }
    }

    /// <summary>dℓ/df and d²ℓ/df² for one label (textbook forms, checked against autograd by a test).</summary>
    public (double[] Gradient, double[,] Hessian) OutputDerivatives(double[] f, double[] label)
    {
        int k = f.Length;
        var g = new double[k];
        var h = new double[k, k];
        switch (_likelihood)
        {
            case "categorical":
                var p = Softmax(f);
                for (int o = 0; o < k; o++)
                {
                    g[o] = (o == (int)label[0] ? 1 : 0) - p[o];
                    for (int q = 0; q < k; q++)
                        h[o, q] = -((o == q ? p[o] : 0) - p[o] * p[q]);
                }
                break;
            case "bernoulli":
                for (int o = 0; o < k; o++)
                {
                    double po = 1 / (1 + Math.Exp(-f[o]));
                    g[o] = label[o] - po;
                    h[o, o] = -po * (1 - po);
                }
                break;
            case "poisson":
                for (int o = 0; o < k; o++)
                {
                    g[o] = label[o] - Math.Exp(f[o]);
                    h[o, o] = -Math.Exp(f[o]);
                }
                break;
            case "gaussian":
                for (int o = 0; o < k; o++)
                {
                    g[o] = (label[o] - f[o]) / _variance;
                    h[o, o] = -1 / _variance;
                }
                break;
        }
        return (g, h);
    }

    /// <summary>Score and negative Hessian diagonal by the chain rule through f.</summary>
    public (double[] Score, double[] NegativeHessian) ChainRule(double[] f, double[][] jacobian, double[][] hessian, double[] label)
    {
        var (g, h) = OutputDerivatives(f, label);
        int k = f.Length, count = jacobian[0].Length;
        var score = new double[count];
        var neg = new double[count];
        for (int i = 0; i < count; i++)
        {
            double s = 0, n = 0;
            for (int o = 0; o < k; o++)
            {
                s += g[o] * jacobian[o][i];
                n -= g[o] * hessian[o][i];
                for (int q = 0; q < k; q++)
                    n -= h[o, q] * jacobian[o][i] * jacobian[q][i];
            }
            score[i] = s;
            neg[i] = n;
        }
        return (score, neg);
    }

    /// <summary>I, V1, V2 and the label means of both terms for one input, by exact enumeration.</summary>
    public ExactTerms Exact(Tensor x)
    {
        var (f, j, h) = NetworkDerivatives(x);
        return Exact(f, j, h);
    }

    /// <summary>As <see cref="Exact(Tensor)"/>, from the input's <see cref="NetworkDerivatives"/>.</summary>
    public ExactTerms Exact(double[] f, double[][] j, double[][] h)
    {
        int count = Count;
        var m1 = new double[count];
        var m2 = new double[count];
        var m4 = new double[count];
        var t1 = new double[count];
        var t2 = new double[count];
        var terms = new List<(double W, double[] S, double[] N)>();
        foreach (var (label, w) in Labels(f))
        {
            var (s, n) = ChainRule(f, j, h, label);
            terms.Add((w, s, n));
            for (int i = 0; i < count; i++)
            {
                m2[i] += w * s[i] * s[i];
                m4[i] += w * s[i] * s[i] * s[i] * s[i];
                t1[i] += w * n[i];
            }
        }
        foreach (var (w, _, n) in terms)
            for (int i = 0; i < count; i++)
                t2[i] += w * (n[i] - t1[i]) * (n[i] - t1[i]);
        var v1 = new double[count];
        for (int i = 0; i < count; i++)
        {
            v1[i] = m4[i] - m2[i] * m2[i];
            m1[i] = m2[i];
        }
        return new ExactTerms(m1, v1, t2, m2, t1);
    }

    private Tensor LogDensity(Tensor f, double[] label)
    {
        switch (_likelihood)
        {
            case "categorical":
                return f.log_softmax(0)[(long)label[0]];
            case "bernoulli":
            {
                var y = tensor(label, ScalarType.Float64);
                return (y * f - nn.functional.softplus(f)).sum();
            }
            case "poisson":
            {
                var y = tensor(label, ScalarType.Float64);
                return (y * f - f.exp() - (y + 1).lgamma()).sum();
            }
            case "gaussian":
            {
                var y = tensor(label, ScalarType.Float64);
                return -(y - f).square().sum() / (2 * _variance);
            }
            default:
                throw new ArgumentException(_likelihood);
        }
    }

    /// <summary>
    /// Gradient and Hessian diagonal of a scalar w.r.t. all parameters. A term 0·Σθ² keeps every gradient
    /// attached to its parameter, so no double-backward call meets an unused input (which would abort the process).
    /// </summary>
    private (double[] Gradient, double[] HessianDiagonal) GradientAndHessianDiagonal(Tensor scalar)
    {
        var anchor = _parameters.Select(p => p.square().sum()).Aggregate((a, b) => a + b) * 0.0;
        var total = scalar + anchor;
        var grads = autograd.grad([total], _parameters, retain_graph: true, create_graph: true);
        var gradient = new double[Count];
        var diagonal = new double[Count];
        int offset = 0;
        for (int t = 0; t < _parameters.Length; t++)
        {
            var flat = grads[t].flatten();
            var values = flat.detach().data<double>().ToArray();
            for (int i = 0; i < values.Length; i++)
            {
                gradient[offset + i] = values[i];
                var row = autograd.grad([flat[i]], [_parameters[t]], retain_graph: true, create_graph: false);
                diagonal[offset + i] = row[0].flatten()[i].item<double>();
            }
            offset += values.Length;
        }
        return (gradient, diagonal);
    }

    private static double[] Softmax(double[] f)
    {
        double max = f.Max();
        var e = f.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    private static (double[] Label, double Weight)[] Product((double Value, double Weight)[][] axes)
    {
        IEnumerable<(double[] Label, double Weight)> result = [(Array.Empty<double>(), 1.0)];
        foreach (var axis in axes)
            result = result.SelectMany(r => axis.Select(a => (r.Label.Append(a.Value).ToArray(), r.Weight * a.Weight))).ToArray();
        return result.ToArray();
    }
}
