using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// Softmax over C logits (over-complete parametrisation; estimators.md §5.2): t(y) = e_y, η = p, Σ = diag(p) − ppᵀ,
/// A = diag(√p) − p √pᵀ. For a Jacobian row u: s_c = u_c − pᵀu, I = Σ p_c s_c², V1 = Σ p_c s_c⁴ − I².
/// </summary>
public sealed class CategoricalLikelihood(int classes) : Likelihood(classes)
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
        nn.functional.one_hot(labels, Classes).to(f.dtype) - f.softmax(-1).unsqueeze(1);

    public override Tensor OutputFisher(Tensor f)
    {
        var p = f.softmax(-1);
        return Diagonal(p).sub(p.unsqueeze(2).mul(p.unsqueeze(1)));
    }

    public override Tensor SqrtOutputFisher(Tensor f)
    {
        var p = f.softmax(-1);
        var sqrtP = p.sqrt();
        return Diagonal(sqrtP).sub(p.unsqueeze(2).mul(sqrtP.unsqueeze(1)));
    }

    public override Tensor QuadraticForm(Tensor f, Tensor rows)
    {
        var p = f.softmax(-1).unsqueeze(2);          // (B, C, 1)
        var mean = p.mul(rows).sum(1, keepdim: true);  // pᵀu per direction
        return p.mul(rows.sub(mean).Sq()).sum(1);
    }

    public override Tensor ScoreFourthMomentVariance(Tensor f, Tensor rows)
    {
        var p = f.softmax(-1).unsqueeze(2);
        var s2 = rows.sub(p.mul(rows).sum(1, keepdim: true)).Sq();
        var i = p.mul(s2).sum(1);
        return p.mul(s2.Sq()).sum(1).sub(i.Sq());
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
