using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// Softmax over C logits (over-complete parametrisation; estimators.md §5.2): t(y) = e_y, η = p, Σ = diag(p) − ppᵀ,
/// A = diag(√p) − p √pᵀ. For a Jacobian row u: s_c = u_c − pᵀu, I = Σ p_c s_c², V1 = Σ p_c s_c⁴ − I².
/// </summary>
internal sealed class CategoricalLikelihood(int classes) : Likelihood(classes)
{
    /// <summary>Number of classes C.</summary>
    public int Classes => Outputs;

    public override string Name => "categorical";

    public override int UniformsPerDraw => 1;

    public override bool HasClassLabels => true;

    public override Tensor LogLikelihood(Tensor f, Tensor labels) =>
        f.log_softmax(-1).gather(1, labels);

    public override Tensor Mean(Tensor f) => f.softmax(-1);

    public override Tensor Score(Tensor f, Tensor labels) =>
        nn.functional.one_hot(labels, Classes).to(f.dtype).Minus(f.softmax(-1).unsqueeze(1));

    public override Tensor OutputFisher(Tensor f)
    {
        var p = f.softmax(-1);
        return Diagonal(p).Minus(p.unsqueeze(2).mul(p.unsqueeze(1)));
    }

    public override Tensor SqrtOutputFisher(Tensor f)
    {
        var p = f.softmax(-1);
        var sqrtP = p.sqrt();
        return Diagonal(sqrtP).Minus(p.unsqueeze(2).mul(sqrtP.unsqueeze(1)));
    }

    public override Tensor QuadraticForm(Tensor f, Tensor rows)
    {
        var p = f.softmax(-1).unsqueeze(2);          // (B, C, 1)
        var mean = p.mul(rows).sum(1, keepdim: true);  // pᵀu per direction
        return p.mul(rows.Minus(mean).Sq()).sum(1);
    }

    public override Tensor ScoreFourthMomentVariance(Tensor f, Tensor rows)
    {
        var p = f.softmax(-1).unsqueeze(2);
        var s2 = rows.Minus(p.mul(rows).sum(1, keepdim: true)).Sq();
        var i = p.mul(s2).sum(1);
        return p.mul(s2.Sq()).sum(1).Minus(i.Sq());
    }

    internal override Tensor? StreamCentering(Tensor f) => f.softmax(-1);

    internal override Tensor? CenteredStreamOf(Tensor labels) => labels.dtype == ScalarType.Int64 ? labels : labels.to(ScalarType.Int64);

    internal override (Tensor? Fisher, Tensor? V1) CenteredForms(Tensor f, Tensor centering, Tensor rows, bool fisher, bool v1, bool consume)
    {
        // Rows s = R − 1pᵀR: I = Σ p_c s_c², V1 = Σ p_c s_c⁴ − I², as p-weighted sums over the output axis (batched
        // products). The powers are taken in place where allowed: fresh (B, C, n) tensors cost more than the squaring.
        var p = centering.unsqueeze(1);                // (B, 1, C): the centring is p itself
        var s2 = consume ? rows.mul_(rows) : rows.Sq();
        var i = p.matmul(s2).squeeze(1);               // (B, n)
        return (fisher ? i : null, v1 ? p.matmul(s2.mul_(s2)).squeeze(1).Minus(i.Sq()) : null);
    }

    public override Tensor ProjectRows(Tensor rows) => rows.Minus(rows.mean([1], keepdim: true));

    public override (Tensor Lower, Tensor Upper) OutputFisherEigenvalues(Tensor f)
    {
        // Eigenvalues of diag(p) − ppᵀ (ascending; the first is the 0 of the null vector 1) in float64, clamped into the
        // interlacing brackets p_(k+1) ≤ μ_k ≤ p_(k) (p sorted descending) and λmax ≤ 1/2, which absorbs rounding.
        var p = f.to(ScalarType.Float64).softmax(-1);
        if (Classes == 1)
        {
            var zero = zeros(f.shape[0], f.dtype);
            return (zero, zero);
        }
        var sigma = Diagonal(p).Minus(p.unsqueeze(2).mul(p.unsqueeze(1)));
        var eigenvalues = linalg.eigvalsh(sigma);
        var sorted = p.sort(1, descending: true).Values;
        var upper = eigenvalues[.., Classes - 1].maximum(sorted[.., 1]).minimum(sorted[.., 0].AtMost(0.5));
        var lower = eigenvalues[.., 1].maximum(sorted[.., Classes - 1]).minimum(sorted[.., Classes - 2]).minimum(upper);
        return (lower.to(f.dtype), upper.to(f.dtype));
    }

    public override (Tensor Lower, Tensor Upper) ScoreCovarianceEigenvalues(Tensor f)
    {
        // Ψ = Cov(w_Y) with w_c = vec((e_c − p)(e_c − p)ᵀ) = W Σ Wᵀ = (WA)(WA)ᵀ (A Aᵀ = Σ), so its non-zero eigenvalues
        // are those of the C×C matrix Aᵀ G A with G_cd = ⟨w_c, w_d⟩ = ((e_c − p)ᵀ(e_d − p))² = (δ_cd − p_c − p_d + ‖p‖²)².
        var f64 = f.to(ScalarType.Float64);
        var p = f64.softmax(-1);
        var inner = eye(Classes, dtype: ScalarType.Float64).unsqueeze(0)
            .Minus(p.unsqueeze(2)).Minus(p.unsqueeze(1)).Plus(p.Sq().sum(1).unsqueeze(1).unsqueeze(2));
        var a = SqrtOutputFisher(f64);
        var m = a.transpose(1, 2).matmul(inner.Sq()).matmul(a);
        var upper = linalg.eigvalsh(m.Plus(m.transpose(1, 2)).Times(0.5))[.., Classes - 1].relu();
        // Symmetric arguments u⊗u with u ∈ 1⊥ span C(C−1)/2 dimensions, Ψ has rank ≤ C − 1: the minimum is 0 unless
        // C = 2, where 1⊥ is a line and V1 = λ‖Pu‖⁴ exactly (λ = 4p₁p₂(1 − 2p₁)² = λmax(Ψ)).
        var lower = Classes == 2 ? upper : zeros_like(upper);
        return (lower.to(f.dtype), upper.to(f.dtype));
    }

    public override Tensor SampleLabels(Tensor f, Tensor uniforms)
    {
        // Inverse CDF in float64: label = #{c : P(Y ≤ c) < u}, capped at C − 1 against rounding of the last cumsum.
        var cdf = f.to(ScalarType.Float64).softmax(-1).cumsum(-1).unsqueeze(1); // (B, 1, C)
        var counts = cdf.lt(uniforms).sum(-1);                                   // (B, S)
        return counts.AtMost(Classes - 1).to(ScalarType.Int64);
    }

    public override Tensor PrepareObservedLabels(Tensor labels, long batch, ScalarType dtype)
    {
        var y = labels.dim() == 2 && labels.shape[1] == 1 ? labels.squeeze(1) : labels;
        if (y.dim() != 1 || y.shape[0] != batch)
            throw new InvalidBatchException("labels", $"expected {batch} class indices (shape [{batch}]), got shape [{string.Join(", ", labels.shape)}]");
        if (y.is_floating_point())
        {
            if (!y.isfinite().all().item<bool>())
                throw new InvalidBatchException("labels", "contain NaN or infinity");
            if (!y.eq(y.round()).all().item<bool>())
                throw new InvalidBatchException("labels", "class labels must be whole numbers");
        }
        else if (!IsInteger(y.dtype))
        {
            throw new InvalidBatchException("labels", $"expected integer class indices, got dtype {y.dtype}");
        }
        var classes = y.to(ScalarType.Int64);
        long min = classes.min().item<long>(), max = classes.max().item<long>();
        if (min < 0 || max >= Classes)
            throw new InvalidBatchException("labels", $"class label {(min < 0 ? min : max)} is out of range; expected 0..{Classes - 1}");
        return classes.unsqueeze(1);
    }
}
