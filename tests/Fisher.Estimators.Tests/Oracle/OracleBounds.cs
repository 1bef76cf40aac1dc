using static TorchSharp.torch;

namespace Fisher.Estimators.Tests.Oracle;

/// <summary>
/// The bounds of estimators.md §4.1/§4.2 for one input, by brute force and independent of the library's closed forms:
/// Σ = Cov(e) and Ψ = Cov(vec eeᵀ) from the oracle's label enumeration, their extreme eigenvalues by eigvalsh on
/// the subspace U the score lives in (1⊥ for the softmax, all of R^K otherwise; for Ψ the symmetric arguments
/// Sym(U⊗U)), and the norms ‖P J_i‖, ‖P H_i‖ (P = UUᵀ) of the oracle's autograd Jacobian and Hessian diagonals.
/// </summary>
public sealed record OracleBounds(double[] V1Upper, double[] V1Lower, double[] V2Upper, double[] V2Lower, double SigmaMin, double SigmaMax, double PsiMin, double PsiMax)
{
    public static OracleBounds Compute(BruteForceOracle oracle, Tensor x, bool projectOntoSumZero)
    {
        var (f, j, h) = oracle.NetworkDerivatives(x);
        return Compute(oracle, f, j, h, projectOntoSumZero);
    }

    /// <summary>As <see cref="Compute(BruteForceOracle, Tensor, bool)"/>, from the input's network derivatives.</summary>
    public static OracleBounds Compute(BruteForceOracle oracle, double[] f, double[][] j, double[][] h, bool projectOntoSumZero)
    {
        int k = f.Length;
        var basis = Basis(k, projectOntoSumZero); // columns: orthonormal basis of U
        int d = basis.GetLength(1);

        // Σ and Ψ from the enumeration of labels.
        var cov = new double[k, k];
        int k2 = k * k;
        var mean = new double[k2];
        var second = new double[k2, k2];
        foreach (var (label, w) in oracle.Labels(f))
        {
            var (g, _) = oracle.OutputDerivatives(f, label);
            var outer = new double[k2];
            for (int a = 0; a < k; a++)
                for (int b = 0; b < k; b++)
                {
                    cov[a, b] += w * g[a] * g[b];
                    outer[a * k + b] = g[a] * g[b];
                }
            for (int r = 0; r < k2; r++)
            {
                mean[r] += w * outer[r];
                for (int c = 0; c < k2; c++)
                    second[r, c] += w * outer[r] * outer[c];
            }
        }
        var psi = new double[k2, k2];
        for (int r = 0; r < k2; r++)
            for (int c = 0; c < k2; c++)
                psi[r, c] = second[r, c] - mean[r] * mean[c];

        // UᵀΣU and BᵀΨB with B an orthonormal basis of Sym(U⊗U).
        var sigmaU = Congruence(cov, basis);
        var symmetric = new List<double[]>();
        for (int a = 0; a < d; a++)
            for (int b = a; b < d; b++)
            {
                var v = new double[k2];
                double norm = a == b ? 1 : Math.Sqrt(0.5);
                for (int p = 0; p < k; p++)
                    for (int q = 0; q < k; q++)
                        v[p * k + q] = norm * (basis[p, a] * basis[q, b] + (a == b ? 0 : basis[p, b] * basis[q, a]));
                symmetric.Add(v);
            }
        var sym = new double[k2, symmetric.Count];
        for (int r = 0; r < k2; r++)
            for (int c = 0; c < symmetric.Count; c++)
                sym[r, c] = symmetric[c][r];
        var psiSym = Congruence(psi, sym);
        var (sigmaMin, sigmaMax) = Extremes(sigmaU);
        var (psiMin, psiMax) = Extremes(psiSym);

        int count = j[0].Length;
        var v1u = new double[count];
        var v1l = new double[count];
        var v2u = new double[count];
        var v2l = new double[count];
        for (int i = 0; i < count; i++)
        {
            double pj2 = ProjectedNormSquared(basis, o => j[o][i], k);
            double ph2 = ProjectedNormSquared(basis, o => h[o][i], k);
            v1u[i] = psiMax * pj2 * pj2;
            v1l[i] = psiMin * pj2 * pj2;
            v2u[i] = sigmaMax * ph2;
            v2l[i] = sigmaMin * ph2;
        }
        return new OracleBounds(v1u, v1l, v2u, v2l, sigmaMin, sigmaMax, psiMin, psiMax);
    }

    /// <summary>Orthonormal columns spanning R^K, or 1⊥ (Gram–Schmidt of e_1 − e_K, ..., e_{K−1} − e_K).</summary>
    private static double[,] Basis(int k, bool sumZero)
    {
        if (!sumZero)
        {
            var identity = new double[k, k];
            for (int a = 0; a < k; a++)
                identity[a, a] = 1;
            return identity;
        }
        var columns = new List<double[]>();
        for (int a = 0; a < k - 1; a++)
        {
            var v = new double[k];
            v[a] = 1;
            v[k - 1] = -1;
            foreach (var u in columns)
            {
                double dot = v.Zip(u, (p, q) => p * q).Sum();
                for (int r = 0; r < k; r++)
                    v[r] -= dot * u[r];
            }
            double norm = Math.Sqrt(v.Sum(e => e * e));
            columns.Add(v.Select(e => e / norm).ToArray());
        }
        var result = new double[k, columns.Count];
        for (int r = 0; r < k; r++)
            for (int c = 0; c < columns.Count; c++)
                result[r, c] = columns[c][r];
        return result;
    }

    private static double ProjectedNormSquared(double[,] basis, Func<int, double> vector, int k)
    {
        double total = 0;
        for (int c = 0; c < basis.GetLength(1); c++)
        {
            double dot = 0;
            for (int o = 0; o < k; o++)
                dot += basis[o, c] * vector(o);
            total += dot * dot;
        }
        return total;
    }

    /// <summary>BᵀMB.</summary>
    private static double[,] Congruence(double[,] m, double[,] b)
    {
        int n = b.GetLength(0), d = b.GetLength(1);
        var result = new double[d, d];
        for (int r = 0; r < d; r++)
            for (int c = 0; c < d; c++)
            {
                double s = 0;
                for (int p = 0; p < n; p++)
                {
                    if (b[p, r] == 0)
                        continue;
                    for (int q = 0; q < n; q++)
                        s += b[p, r] * m[p, q] * b[q, c];
                }
                result[r, c] = s;
            }
        return result;
    }

    private static (double Min, double Max) Extremes(double[,] symmetric)
    {
        int d = symmetric.GetLength(0);
        if (d == 0)
            return (0, 0);
        using var scope = NewDisposeScope();
        var values = linalg.eigvalsh(tensor(symmetric.Cast<double>().ToArray(), new long[] { d, d }, ScalarType.Float64)).data<double>().ToArray();
        return (values.Min(), values.Max());
    }
}
