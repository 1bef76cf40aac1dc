using TorchSharp;
using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// An output distribution p(y | f) in a canonical exponential family, parametrised by the network output f
/// (estimators.md §1). Everything is expressed in f-space: the score e = ∂ℓ/∂f (zero mean under the model),
/// the output Fisher Σ_f = Cov(e) = −E ∂²ℓ/∂f², and a square-root factor A with A Aᵀ = Σ_f. For the canonical
/// families f is the natural parameter and e = t(y) − η; for the Gaussian f is the mean μ, so e = (y − μ)/σ².
/// Labels drawn from the model carry a draw axis: (batch, draws) for class labels, (batch, draws, outputs) else.
/// </summary>
public abstract class Likelihood
{
    private protected Likelihood(int outputs)
    {
        if (outputs < 1)
            throw new ArgumentOutOfRangeException(nameof(outputs), outputs, "a likelihood needs at least one output");
        Outputs = outputs;
    }

    /// <summary>Short name used in files and reports (<c>gaussian</c>, <c>categorical</c>, <c>bernoulli</c>, <c>poisson</c>).</summary>
    public abstract string Name { get; }

    /// <summary>Number of network outputs this likelihood reads (K).</summary>
    public int Outputs { get; }

    /// <summary>Number of columns of the square-root factor A (C).</summary>
    public virtual int SqrtColumns => Outputs;

    /// <summary>Uniforms consumed by one label draw.</summary>
    public abstract int UniformsPerDraw { get; }

    /// <summary>True when labels are class indices (int64, shape (batch) or (batch, draws)).</summary>
    public virtual bool HasClassLabels => false;

    /// <summary>log p(y | f) for labels with a draw axis; returns (batch, draws).</summary>
    public abstract Tensor LogLikelihood(Tensor f, Tensor labels);

    /// <summary>The expectation parameter η = E t(y), (batch, outputs).</summary>
    public abstract Tensor Mean(Tensor f);

    /// <summary>The score e = ∂ℓ/∂f for labels with a draw axis; returns (batch, draws, outputs).</summary>
    public abstract Tensor Score(Tensor f, Tensor labels);

    /// <summary>Σ_f = Cov(e) = −∂²ℓ/∂f², (batch, outputs, outputs).</summary>
    public abstract Tensor OutputFisher(Tensor f);

    /// <summary>A with A Aᵀ = Σ_f, (batch, outputs, columns) (estimators.md §9.2, identity 11).</summary>
    public abstract Tensor SqrtOutputFisher(Tensor f);

    /// <summary>
    /// For Jacobian rows R (batch, outputs, n) (column j: ∂f/∂u_j for n scalar directions u), the conditional Fisher
    /// Rᵀ Σ_f R per direction: (batch, n).
    /// </summary>
    public abstract Tensor QuadraticForm(Tensor f, Tensor rows);

    /// <summary>
    /// V1 per direction: Var_y[(Rᵀe)²] = E[(Rᵀe)⁴] − (Rᵀ Σ_f R)², (batch, n) (estimators.md §3.1, §5).
    /// </summary>
    public abstract Tensor ScoreFourthMomentVariance(Tensor f, Tensor rows);

    /// <summary>
    /// Weights w (batch, outputs) with which the Jacobian pass may start from the streams e_o − w instead of e_o, giving
    /// rows R − 1 wᵀR, when every score satisfies 1ᵀe = 0 (so eᵀ(R − 1wᵀR) = eᵀR) and Σ_f 1 = 0 (so the quadratic
    /// forms are unchanged): the softmax, with w = p. Null: start from the identity.
    /// </summary>
    internal virtual Tensor? StreamCentering(Tensor f) => null;

    /// <summary>
    /// For labels whose score e is itself one of the centred streams (the softmax: e = e_y − p is stream y), the stream
    /// index of each label, (batch, draws) int64, so that eᵀ(rows) is a selection of row y instead of a batched product
    /// (eᵀ(R − 1pᵀR) = row y because pᵀ1 = 1). Null: scores are general vectors.
    /// </summary>
    internal virtual Tensor? CenteredStreamOf(Tensor labels) => null;

    /// <summary>
    /// <see cref="QuadraticForm"/> and <see cref="ScoreFourthMomentVariance"/> of rows that already are centred with
    /// <paramref name="centering"/> (what <see cref="StreamCentering"/> returned for f); the default ignores the centring.
    /// With <paramref name="consume"/> the rows' memory may be overwritten (the caller is done with them).
    /// </summary>
    internal virtual (Tensor? Fisher, Tensor? V1) CenteredForms(Tensor f, Tensor centering, Tensor rows, bool fisher, bool v1, bool consume) =>
        (fisher ? QuadraticForm(f, rows) : null, v1 ? ScoreFourthMomentVariance(f, rows) : null);

    /// <summary>
    /// Projects rows (batch, outputs, n) onto the subspace the score e lives in, along the output axis: the identity,
    /// except for the softmax, where 1ᵀe = 0 and rows are projected onto 1⊥ (P = I − 11ᵀ/C). Since eᵀu = eᵀPu,
    /// V1 and V2 of u equal those of Pu, so the bounds of §4 may use ‖Pu‖ instead of ‖u‖.
    /// </summary>
    public virtual Tensor ProjectRows(Tensor rows) => rows;

    /// <summary>
    /// Per input (batch), λlow ≤ uᵀΣ_f u/‖u‖² ≤ λhigh for every u in the projected subspace (<see cref="ProjectRows"/>):
    /// the extreme eigenvalues of Σ_f there (estimators.md §4.1). Gaussian: 1/σ² (both); Bernoulli/Poisson: the
    /// smallest and largest output variance; softmax: λ+min and λmax of diag(p) − ppᵀ on 1⊥.
    /// </summary>
    public abstract (Tensor Lower, Tensor Upper) OutputFisherEigenvalues(Tensor f);

    /// <summary>
    /// Per input (batch), constants with λlow‖u‖⁴ ≤ V1(u) = Var_y[(uᵀe)²] ≤ λhigh‖u‖⁴ for every u in the projected
    /// subspace: extreme eigenvalues of Ψ = Cov(e⊗e) on symmetric arguments u⊗u (estimators.md §4.2). Gaussian: 2/σ⁴
    /// (both; V1 = 2σ⁻⁴‖u‖⁴ exactly); independent outputs: min/max of {2v_a v_b (a ≠ b), 2v_a² + κ4_a}; softmax:
    /// λmax(Ψ) and, as Ψ has rank C − 1 below the dimension C(C−1)/2 of the symmetric 1⊥ arguments, 0 unless C = 2.
    /// </summary>
    public abstract (Tensor Lower, Tensor Upper) ScoreCovarianceEigenvalues(Tensor f);

    /// <summary>Draws labels from p(y | f) by inverse transforms of uniforms (batch, draws, UniformsPerDraw) in float64.</summary>
    public abstract Tensor SampleLabels(Tensor f, Tensor uniforms);

    /// <summary>
    /// Checks observed labels for a batch of <paramref name="batch"/> inputs and returns them with a draw axis of 1,
    /// in the dtype <see cref="Score"/> expects. Throws <see cref="InvalidBatchException"/> naming what is wrong.
    /// </summary>
    public abstract Tensor PrepareObservedLabels(Tensor labels, long batch, ScalarType dtype);

    /// <summary>
    /// True when labels with <paramref name="labelColumns"/> columns are class indices that stand for one-hot targets:
    /// one column, several outputs and a likelihood whose labels are not class indices themselves (regression on
    /// one-hot targets, as in the paper's Gaussian MNIST setting). Convert them with <see cref="OneHotTargets"/>.
    /// </summary>
    public bool TakesOneHotTargets(int labelColumns) => labelColumns == 1 && Outputs > 1 && !HasClassLabels;

    /// <summary>
    /// Class indices (batch) as one-hot targets (batch, outputs) in float64, for <see cref="PrepareObservedLabels"/>.
    /// Fractional or out-of-range indices throw <see cref="InvalidBatchException"/>.
    /// </summary>
    public Tensor OneHotTargets(Tensor classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (!classes.eq(classes.round()).all().item<bool>())
            throw new InvalidBatchException("labels", $"one label column for {Outputs} outputs must hold class indices 0..{Outputs - 1} (one-hot targets); got a fractional value");
        var indices = classes.to(ScalarType.Int64);
        long min = indices.min().item<long>(), max = indices.max().item<long>();
        if (min < 0 || max >= Outputs)
            throw new InvalidBatchException("labels", $"class label {(min < 0 ? min : max)} is out of range for one-hot targets; expected 0..{Outputs - 1}");
        return nn.functional.one_hot(indices, Outputs).to(ScalarType.Float64);
    }

    /// <summary>Parses <c>gaussian</c>, <c>categorical</c>, <c>bernoulli</c> or <c>poisson</c>.</summary>
    public static Likelihood Create(string name, int outputs, double variance = 1.0) =>
        Create(SpecNames.Likelihoods.Parse(name), outputs, variance);

    /// <summary>The likelihood of <paramref name="family"/> over <paramref name="outputs"/> outputs.</summary>
    public static Likelihood Create(LikelihoodFamily family, int outputs, double variance = 1.0) => family switch
    {
        LikelihoodFamily.Gaussian => new GaussianLikelihood(outputs, variance),
        LikelihoodFamily.Categorical => new CategoricalLikelihood(outputs),
        LikelihoodFamily.Bernoulli => new BernoulliLikelihood(outputs),
        LikelihoodFamily.Poisson => new PoissonLikelihood(outputs),
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "not a likelihood family"),
    };

    private protected Tensor RealLabels(Tensor labels, long batch, ScalarType dtype)
    {
        var y = labels.dim() == 1 && Outputs == 1 ? labels.unsqueeze(1) : labels;
        if (y.dim() != 2 || y.shape[0] != batch || y.shape[1] != Outputs)
            throw new InvalidBatchException("labels", $"expected shape [{batch}, {Outputs}] for the {Name} likelihood, got [{string.Join(", ", labels.shape)}]");
        if (!y.is_floating_point() && !IsInteger(y.dtype))
            throw new InvalidBatchException("labels", $"expected numeric labels, got dtype {y.dtype}");
        var real = y.to(dtype);
        if (!real.isfinite().all().item<bool>())
            throw new InvalidBatchException("labels", "contain NaN or infinity");
        return real.unsqueeze(1);
    }

    private protected static bool IsInteger(ScalarType t) =>
        t is ScalarType.Int8 or ScalarType.Int16 or ScalarType.Int32 or ScalarType.Int64 or ScalarType.Byte or ScalarType.Bool;

    private protected static Tensor Diagonal(Tensor values) => diag_embed(values);
}
