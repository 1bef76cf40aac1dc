using TorchSharp;
using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// Computes, for a batch of inputs, the moments (n, mean, M2) of every requested per-sample Fisher quantity for
/// every requested parameter (estimators.md §9.4–9.6): Î1 and Î2 terms with labels drawn from the model, the exact
/// conditional diagonal I(θ|x), the empirical Fisher with observed labels, and the closed-form conditional
/// variances V1(θ|x) and V2(θ|x). All per-sample work is batched: at most two backward passes over "streams"
/// (the K Jacobian rows, and sampled-label scores when that is cheaper) and stacked Gram products per layer; no
/// per-sample gradient is ever materialised. Not thread-safe; one instance per worker thread.
/// </summary>
public sealed class FisherEstimator
{
    private readonly IEstimatorBackend _backend;
    private readonly Likelihood _likelihood;
    private readonly EstimatorOptions _options;
    private readonly Needs _need;
    private readonly PassPlan _plan;

    /// <summary>Creates an estimator; validates that the likelihood reads as many outputs as the network has.</summary>
    public FisherEstimator(FeedForwardNetwork network, Likelihood likelihood, EstimatorOptions options)
        : this(likelihood, options, network?.Layout, names => new MlpBackend(network!, names))
    {
    }

    /// <summary>
    /// An estimator for a layer graph (convolutions, pooling, BatchNorm, residual sums: docs/estimators.md §9.7). A graph
    /// that is a plain MLP runs faster as a <see cref="FeedForwardNetwork"/> (<see cref="Graph.LayerGraph.AsFeedForward"/>).
    /// </summary>
    public FisherEstimator(Graph.LayerGraph graph, Likelihood likelihood, EstimatorOptions options)
        : this(likelihood, options, graph?.Layout, names => new Graph.GraphBackend(graph!, names, options?.WorkingElements ?? Graph.GraphBackend.DefaultWorkingElements))
    {
    }

    private FisherEstimator(Likelihood likelihood, EstimatorOptions options, ParameterLayout? layout, Func<IEnumerable<string>, IEstimatorBackend> backend)
    {
        ArgumentNullException.ThrowIfNull(layout, "network");
        ArgumentNullException.ThrowIfNull(likelihood);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var names = options.Parameters ?? layout.Parameters.Select(p => p.Name).ToArray();
        foreach (var name in names)
            _ = layout[name]; // throws naming the known parameters
        _backend = backend(names);
        if (likelihood.Outputs != _backend.OutputWidth)
            throw new InvalidNetworkException($"the {likelihood.Name} likelihood reads {likelihood.Outputs} outputs but the network's last layer '{_backend.OutputLayer}' has {_backend.OutputWidth}");
        _likelihood = likelihood;
        _options = options;
        _need = new Needs(options.Quantities);
        _plan = PassPlan.Of(options.Quantities, options.DrawsPerInput, likelihood.Outputs, _backend.Smooth);
    }

    /// <summary>The options this estimator runs with.</summary>
    public EstimatorOptions Options => _options;

    /// <summary>
    /// Moments of one batch. <paramref name="firstSampleIndex"/> is the global index of the first input: label draws
    /// depend only on (seed, global index, draw). <paramref name="labels"/> are the observed labels, required for
    /// the empirical Fisher. Invalid input throws <see cref="InvalidBatchException"/> before any tensor work.
    /// </summary>
    public FisherMoments Estimate(Tensor inputs, Tensor? labels, long firstSampleIndex)
    {
        using var accumulator = new FisherAccumulator();
        AccumulateCore(accumulator, inputs, labels, firstSampleIndex, drawnLabels: null);
        return accumulator.ToMoments();
    }

    /// <summary>
    /// Merges the moments of one batch into <paramref name="accumulator"/> (the hot path of a worker: no managed
    /// arrays per batch). A batch that fails validation leaves the accumulator unchanged.
    /// </summary>
    public void Accumulate(FisherAccumulator accumulator, Tensor inputs, Tensor? labels, long firstSampleIndex)
    {
        ArgumentNullException.ThrowIfNull(accumulator);
        AccumulateCore(accumulator, inputs, labels, firstSampleIndex, drawnLabels: null);
        TorchRuntime.AfterBatch(); // after the batch's dispose scope has freed its tensors
    }

    /// <summary>
    /// As <see cref="Estimate"/>, but with the labels of the "draws" given instead of sampled: (batch, draws) class
    /// indices or (batch, draws, outputs) values. For tests that enumerate labels.
    /// </summary>
    internal FisherMoments EstimateWithDrawnLabels(Tensor inputs, Tensor? labels, Tensor drawnLabels)
    {
        using var accumulator = new FisherAccumulator();
        AccumulateCore(accumulator, inputs, labels, 0, drawnLabels);
        return accumulator.ToMoments();
    }

    /// <summary>
    /// One batch: validation, the forward trace and the backward passes, then per layer its forms, unit values and
    /// Gram blocks, merged into <paramref name="accumulator"/> at the end (when nothing has thrown).
    /// </summary>
    private void AccumulateCore(FisherAccumulator accumulator, Tensor inputs, Tensor? labels, long firstSampleIndex, Tensor? drawnLabels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = PrepareInputs(inputs);
        long batch = x.shape[0];
        Tensor? observed = null;
        if (_need.Empirical)
        {
            if (labels is null)
                throw new InvalidBatchException("labels", "the empirical Fisher needs the observed labels of the batch");
            observed = _likelihood.PrepareObservedLabels(labels, batch, _backend.DType);
        }
        ArgumentOutOfRangeException.ThrowIfNegative(firstSampleIndex);

        // A batch too large for one pass (layer graphs only) runs in parts, each merged on its own. Inputs and labels are
        // checked above for the whole batch; only an output that overflows in a later part can fail after earlier parts
        // were merged (the caller then fails the job, as for any invalid batch).
        long part = _backend.MicroBatch(batch, _plan.Streams(_likelihood.Outputs, _options.DrawsPerInput), _plan.JacobianResidual || _plan.DrawnResidual);
        for (long start = 0; start < batch; start += part)
        {
            using var partScope = NewDisposeScope();
            long size = Math.Min(part, batch - start);
            using var run = _backend.Start(size == batch ? x : x.narrow(0, start, size), _need.Second);
            ThrowIfNotFinite(run.Output);
            var passes = RunPasses(run, size, observed?.narrow(0, start, size), firstSampleIndex + start, drawnLabels?.narrow(0, start, size));
            var counts = new List<StreamCount>();
            var gramBlocks = new List<GramBlock>();
            foreach (var target in run.Targets)
                AccumulateTarget(target, passes, counts, gramBlocks);
            accumulator.Merge(size, counts, gramBlocks);
        }
    }

    private static void ThrowIfNotFinite(Tensor output)
    {
        if (!AllFinite(output))
            throw new InvalidBatchException("inputs", "the network output is NaN or infinite for this batch");
    }

    /// <summary>
    /// The batch's backward passes over its streams (at most two), the scores and streams that select from them, and
    /// the per-input eigenvalue constants of the bounds: everything the layers read.
    /// </summary>
    private BatchPasses RunPasses(IBatchRun run, long batch, Tensor? observed, long firstSampleIndex, Tensor? drawnLabels)
    {
        var f = run.Output;
        int outputs = _likelihood.Outputs;
        int draws = _options.DrawsPerInput;

        // One pass over the K output-space identity streams gives the Jacobian rows J^l[o] = ∂f_o/∂z^l and, with
        // residuals, the diagonals R^l[o] = diag ∂²f_o/∂z^l² (H_i per output, §1.2); for the softmax the streams are
        // centred (e_o − p: rows J − 1pᵀJ, Likelihood.StreamCentering), which leaves every form below unchanged. Everything label-free follows per unit:
        // I = Jᵀ Σ_f J, V1 = E(Jᵀe)⁴ − I², V2 = Rᵀ Σ_f R (§3.1). Back-propagation is linear in the top vector, so
        // for any score e the first-order vector is eᵀJ and the residual eᵀR: draws and observed labels need no
        // pass of their own once this one exists.
        // Residuals exist only when some activation is smooth; in ReLU-like networks Î2 = I exactly (§5.3d).
        IStreamRows? jacobian = null;
        Tensor? centering = null; // the Jacobian rows are centred (J − 1pᵀJ for the softmax): same quadratic forms, cheaper
        if (_plan.JacobianPass)
        {
            centering = _likelihood.StreamCentering(f);
            jacobian = run.Jacobian(centering, _plan.JacobianResidual);
        }

        // Scores e = ∂ℓ/∂f, (B, draws, outputs), are needed only for a pass of their own or where they are not one of
        // the centred streams (then eᵀ(rows) is a product, not a selection of rows).
        Tensor? score = null, drawnStreams = null;
        IStreamRows? drawn = null;
        if (_need.Scores || _need.Gamma)
        {
            var y = drawnLabels ?? LabelDraws.Sample(_likelihood, f, _options.Seed, firstSampleIndex, draws);
            drawnStreams = centering is null ? null : _likelihood.CenteredStreamOf(y);
            score = _plan.DrawnPass || drawnStreams is null ? _likelihood.Score(f, y) : null;
            if (_plan.DrawnPass)
                drawn = run.Streams(score!, withResidual: _plan.DrawnResidual);
        }
        Tensor? observedStreams = observed is null || centering is null ? null : _likelihood.CenteredStreamOf(observed);
        Tensor? observedScore = observed is not null && (observedStreams is null || jacobian is null) ? _likelihood.Score(f, observed) : null;
        IStreamRows? empirical = observed is not null && jacobian is null ? run.Streams(observedScore!, false) : null;

        // Per-input eigenvalue constants of the bounds (§4.1, §4.2), (B, 1) to scale the unit norms.
        var fisherEigenvalues = _need.V2Bounds ? _likelihood.OutputFisherEigenvalues(f) : default;
        var scoreEigenvalues = _need.V1Bounds ? _likelihood.ScoreCovarianceEigenvalues(f) : default;
        return new BatchPasses(f, batch, draws, centering, jacobian, score, drawnStreams, drawn,
            observed is not null, observedScore, observedStreams, empirical, fisherEigenvalues, scoreEigenvalues);
    }

    /// <summary>
    /// One target (a layer's unit rows, or one parameter tensor's rows): its values of every quantity, turned into Gram
    /// blocks (<see cref="LinearMomentRule"/>) that move out of the target's dispose scope for the accumulator to merge
    /// at the end of the batch.
    /// </summary>
    private void AccumulateTarget(in MomentTarget target, in BatchPasses passes, List<StreamCount> counts, List<GramBlock> gramBlocks)
    {
        // The target's temporaries are freed when it is done (a smaller working set than the whole batch's); only the
        // Gram factors the accumulator merges at the end of the batch move out.
        int blocksBefore = gramBlocks.Count;
        using var layerScope = NewDisposeScope();
        var forms = ComputeForms(target, passes);
        var units = new List<UnitValues>(13);
        AddScoreUnits(units, forms.DrivenScores);
        AddNegativeHessianUnits(units, passes, forms);
        AddLabelFreeUnits(units, passes.Batch, forms);
        AddBoundUnits(units, passes, forms);
        var accumulation = _options.DoublePrecisionMoments ? ScalarType.Float64 : _backend.DType;
        Accumulate(target, units, accumulation, counts, gramBlocks);
        // The third and fourth powers (and their squares, up to v⁸) leave float32's range for small values: float64 always.
        var powers = new List<UnitValues>(4);
        AddPowerUnits(powers, forms);
        Accumulate(target, powers, ScalarType.Float64, counts, gramBlocks);
        KeepForMerge(layerScope, gramBlocks, blocksBefore);
    }

    private static void Accumulate(in MomentTarget target, List<UnitValues> units, ScalarType accumulation, List<StreamCount> counts, List<GramBlock> gramBlocks)
    {
        if (target.Elements)
            LinearMomentRule.AccumulateElements(counts, gramBlocks, target.Bias!, units, accumulation);
        else
            LinearMomentRule.Accumulate(counts, gramBlocks, target.Weight, target.Bias, units, target.Input!, accumulation);
    }

    /// <summary>
    /// The tensors of one target (per unit, or per parameter): first everything that reads the raw Jacobian rows, then the
    /// label-free forms, which may square the rows in place.
    /// </summary>
    private LayerForms ComputeForms(in MomentTarget target, in BatchPasses p)
    {
        var rows = p.Jacobian?.First(target);      // (B, K, n)
        var rowResiduals = p.Jacobian?.Residual(target); // (B, K, n); null where the network is affine in the target
        // Everything that reads the raw rows first (selections of drawn and observed rows, the bounds' norms); then
        // the label-free forms, which may square the rows in place (the jacobian pass is done with them).
        var drivenScores = _need.Scores ? p.Drawn?.First(target) ?? Drive(p.Score, p.DrawnStreams, rows!) : null;
        var drivenResidual = _need.Gamma ? (p.Drawn is { } drawn ? drawn.Residual(target) : (rowResiduals is null ? null : Drive(p.Score, p.DrawnStreams, rowResiduals))) : null;
        var delta = !p.HasObserved ? null : p.Empirical?.First(target) ?? Drive(p.ObservedScore, p.ObservedStreams, rows!);
        // ‖J_i‖⁴ = a_k⁴ ‖J_j‖⁴ for W_jk (pre-activation trick), so the bound is a per-unit value times a_k⁴.
        var j4 = _need.V1Bounds ? _likelihood.ProjectRows(rows!).Sq().sum(1).Sq() : null;
        // ‖H_i‖² = a_k⁴ ‖R_j‖² for W_jk; zero where h is affine in the parameter (output layer, ReLU layers).
        var h2 = _need.V2Bounds && rowResiduals is not null ? _likelihood.ProjectRows(rowResiduals).Sq().sum(1) : null;
        Tensor? exact = null, v1 = null, v2 = null;
        var f = p.Output;
        if (rows is not null)
        {
            (exact, v1) = p.Centering is null
                ? (_likelihood.QuadraticForm(f, rows), _need.V1 ? _likelihood.ScoreFourthMomentVariance(f, rows) : null)
                : _likelihood.CenteredForms(f, p.Centering, rows, fisher: true, v1: _need.V1, consume: true);
        }
        if (_need.V2 && rowResiduals is not null)
        {
            v2 = p.Centering is null
                ? _likelihood.QuadraticForm(f, rowResiduals)
                : _likelihood.CenteredForms(f, p.Centering, rowResiduals, fisher: true, v1: false, consume: true).Fisher!;
        }
        return new LayerForms(drivenScores, drivenResidual, delta, j4, h2, exact, v1, v2);
    }

    /// <summary>Î1 terms and their per-input means: the squares of the drawn-label scores δ.</summary>
    private void AddScoreUnits(List<UnitValues> units, Tensor? drivenScores)
    {
        if (!_need.Scores)
            return;
        var squares = drivenScores!.Sq();
        if (_need.I1)
            units.Add(new UnitValues(FisherQuantity.SquaredScore, squares, 2));
        if (_need.I1Mean)
            units.Add(new UnitValues(FisherQuantity.SquaredScoreInputMean, squares.mean([1]), 2));
    }

    /// <summary>Î2 terms, their per-input means and the indicators of negative terms, from Γ = G − R(e).</summary>
    private void AddNegativeHessianUnits(List<UnitValues> units, in BatchPasses p, in LayerForms forms)
    {
        if (!_need.Gamma)
            return;
        // −∂²ℓ/∂z² = G − R(e): the GGN part is label-free, the residual is driven by e (§9.2).
        if (forms.DrivenResidual is null)
        {
            // No residual curvature at this layer (the output layer; every layer of a piecewise-linear net): every
            // Î2 draw equals the exact diagonal (§5.3d), whose products serve for Î2 as well.
            if (_need.I2)
                units.Add(_need.Exact
                    ? UnitValues.Repeat(FisherQuantity.NegativeHessian, FisherQuantity.Exact, p.Draws)
                    : new UnitValues(FisherQuantity.NegativeHessian, forms.Exact!, 2, Repeats: p.Draws));
            if (_need.I2Mean)
                units.Add(_need.Exact
                    ? UnitValues.Repeat(FisherQuantity.NegativeHessianInputMean, FisherQuantity.Exact, 1)
                    : new UnitValues(FisherQuantity.NegativeHessianInputMean, forms.Exact!, 2));
            if (_need.Negative)
                units.Add(UnitValues.Zero(FisherQuantity.NegativeHessianNegative, p.Batch * p.Draws)); // the exact diagonal is ≥ 0
            return;
        }
        var gamma = forms.Exact!.unsqueeze(1).Minus(forms.DrivenResidual);
        if (_need.I2)
            units.Add(new UnitValues(FisherQuantity.NegativeHessian, gamma, 2));
        if (_need.I2Mean)
            units.Add(new UnitValues(FisherQuantity.NegativeHessianInputMean, gamma.mean([1]), 2));
        if (_need.Negative)
        {
            // a_k² Γ_j < 0 ⇔ Γ_j < 0 and a_k ≠ 0 (§7.2): an indicator of Γ against an indicator of A.
            var negative = gamma.lt(TensorMath.C(0, gamma.dtype)).to(gamma.dtype);
            units.Add(new UnitValues(FisherQuantity.NegativeHessianNegative, negative, LinearMomentRule.NonZeroIndicator));
        }
    }

    /// <summary>The exact diagonal, the empirical Fisher (observed-label scores δ squared), V1 and V2.</summary>
    private void AddLabelFreeUnits(List<UnitValues> units, long batch, in LayerForms forms)
    {
        if (_need.Exact)
            units.Add(new UnitValues(FisherQuantity.Exact, forms.Exact!, 2));
        if (forms.Delta is not null)
            units.Add(new UnitValues(FisherQuantity.Empirical, forms.Delta.Sq(), 2));

        if (_need.V1)
            units.Add(new UnitValues(FisherQuantity.SquaredScoreVariance, forms.V1!, 4));
        if (_need.V2)
            units.Add(forms.V2 is null ? UnitValues.Zero(FisherQuantity.NegativeHessianVariance, batch) : new UnitValues(FisherQuantity.NegativeHessianVariance, forms.V2, 4));
    }

    /// <summary>
    /// The third and fourth powers of the exact and empirical per-input values (§3.5), in float64: a weight's value is
    /// v = u_j·a_k², so v^m = u_j^m·a_k^(2m), unit values u^m against A∘2m.
    /// </summary>
    private void AddPowerUnits(List<UnitValues> units, in LayerForms forms)
    {
        void Add(Tensor values, FisherQuantity third, FisherQuantity fourth)
        {
            var v = values.to(ScalarType.Float64);
            var squares = v.Sq();
            if (third != FisherQuantity.None)
                units.Add(new UnitValues(third, squares.mul(v), 6));
            if (fourth != FisherQuantity.None)
                units.Add(new UnitValues(fourth, squares.Sq(), 8));
        }
        FisherQuantity Need(FisherQuantity power) => (_need.Powers & power) != 0 ? power : FisherQuantity.None;
        if ((_need.Powers & (FisherQuantity.ExactThirdPower | FisherQuantity.ExactFourthPower)) != 0 && _need.Exact)
            Add(forms.Exact!, Need(FisherQuantity.ExactThirdPower), Need(FisherQuantity.ExactFourthPower));
        if ((_need.Powers & (FisherQuantity.EmpiricalThirdPower | FisherQuantity.EmpiricalFourthPower)) != 0 && forms.Delta is not null)
            Add(forms.Delta.Sq(), Need(FisherQuantity.EmpiricalThirdPower), Need(FisherQuantity.EmpiricalFourthPower));
        // Î1 and Î2: the per-input value is the term with one draw, the mean of the K draws otherwise.
        static Tensor PerInput(Tensor draws) => draws.shape[1] == 1 ? draws.squeeze(1) : draws.mean([1]);
        if ((_need.Powers & (FisherQuantity.SquaredScoreThirdPower | FisherQuantity.SquaredScoreFourthPower)) != 0 && forms.DrivenScores is not null)
            Add(PerInput(forms.DrivenScores.Sq()), Need(FisherQuantity.SquaredScoreThirdPower), Need(FisherQuantity.SquaredScoreFourthPower));
        if ((_need.Powers & (FisherQuantity.NegativeHessianThirdPower | FisherQuantity.NegativeHessianFourthPower)) != 0 && _need.Gamma && forms.Exact is not null)
        {
            // Without residual curvature every Î2 draw equals the exact diagonal (§5.3d).
            var gamma = forms.DrivenResidual is null ? forms.Exact : PerInput(forms.Exact.unsqueeze(1).Minus(forms.DrivenResidual));
            Add(gamma, Need(FisherQuantity.NegativeHessianThirdPower), Need(FisherQuantity.NegativeHessianFourthPower));
        }
    }

    /// <summary>The bounds of V1 and V2: the unit norms times the per-input eigenvalue constants.</summary>
    private void AddBoundUnits(List<UnitValues> units, in BatchPasses p, in LayerForms forms)
    {
        if (forms.J4 is { } j4)
        {
            if (_need.V1Upper)
                units.Add(new UnitValues(FisherQuantity.V1Upper, j4.mul(p.ScoreEigenvalues.Upper.unsqueeze(1)), 4));
            if (_need.V1Lower)
                units.Add(new UnitValues(FisherQuantity.V1Lower, j4.mul(p.ScoreEigenvalues.Lower.unsqueeze(1)), 4));
        }
        if (_need.V2Bounds)
        {
            var h2 = forms.H2;
            if (_need.V2Upper)
                units.Add(h2 is null ? UnitValues.Zero(FisherQuantity.V2Upper, p.Batch) : new UnitValues(FisherQuantity.V2Upper, h2.mul(p.FisherEigenvalues.Upper.unsqueeze(1)), 4));
            if (_need.V2Lower)
                units.Add(h2 is null ? UnitValues.Zero(FisherQuantity.V2Lower, p.Batch) : new UnitValues(FisherQuantity.V2Lower, h2.mul(p.FisherEigenvalues.Lower.unsqueeze(1)), 4));
        }
    }

    /// <summary>Moves the factors of the Gram blocks a layer added out of its dispose scope, into the batch's.</summary>
    private static void KeepForMerge(DisposeScope layerScope, List<GramBlock> gramBlocks, int blocksFrom)
    {
        for (int i = blocksFrom; i < gramBlocks.Count; i++)
        {
            layerScope.MoveToOuter(gramBlocks[i].Values);
            if (gramBlocks[i].InputPower is { } inputPower)
                layerScope.MoveToOuter(inputPower);
        }
    }

    /// <summary>
    /// eᵀ(rows) per input and score, (B, S, n): the scores' (B, S, outputs) product with the rows (B, outputs, n), or,
    /// where each score is one of the centred streams (<see cref="Likelihood.CenteredStreamOf"/>), that stream's row.
    /// </summary>
    private static Tensor Drive(Tensor? scores, Tensor? streams, Tensor rows)
    {
        if (streams is null)
            return scores!.matmul(rows);
        // Row y of input b is row b·C + y of the (B·C, n) view: whole-row copies (index_select), several times faster
        // than an element-wise gather along the output axis.
        long batch = rows.shape[0], outputs = rows.shape[1], width = rows.shape[2];
        var offsets = RowOffsets.GetOrAdd((batch, outputs), static key =>
            tensor(Enumerable.Range(0, (int)key.Batch).Select(b => b * key.Outputs).ToArray(), [key.Batch, 1]).DetachFromDisposeScope());
        return rows.reshape(batch * outputs, width).index_select(0, streams.Plus(offsets).reshape(-1)).reshape(batch, streams.shape[1], width);
    }

    /// <summary>b·C for b = 0..B−1 as a (B, 1) int64 tensor per (B, C), made once (no Scalar-taking arange per batch).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(long Batch, long Outputs), Tensor> RowOffsets = new();

    /// <summary>
    /// One reduction: a NaN or infinity anywhere makes the sum non-finite; only then (the sum may also overflow)
    /// is the exact element-wise check run.
    /// </summary>
    private static bool AllFinite(Tensor t)
    {
        using var sum = t.sum();
        return double.IsFinite(sum.to(ScalarType.Float64).item<double>()) || t.isfinite().all().item<bool>();
    }

    private Tensor PrepareInputs(Tensor inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.dim() < 1)
            throw new InvalidBatchException("inputs", "expected a batch of inputs, got a scalar");
        inputs = _backend.Prepare(inputs);
        if (inputs.shape[0] < 1)
            throw new InvalidBatchException("inputs", "the batch is empty");
        if (!inputs.is_floating_point())
            throw new InvalidBatchException("inputs", $"expected float32 or float64 inputs, got {inputs.dtype}");
        if (!AllFinite(inputs))
            throw new InvalidBatchException("inputs", "contain NaN or infinity");
        return inputs.to(_backend.DType);
    }

    /// <summary>
    /// Which backward passes a batch runs, decided in one place for the estimator and its cost estimate
    /// (<see cref="Graph.LayerGraph.EstimateCost"/>): the pass over the output streams (Jacobian rows) whenever a
    /// label-free quantity or Î2 is asked for, with residuals when V2 or its bounds are, or Î2 with at least as many
    /// draws as outputs; otherwise a pass over the K drawn scores (with residuals for Î2 in a smooth network: fewer
    /// streams than the outputs); a pass over the observed score only without the Jacobian pass.
    /// </summary>
    internal readonly record struct PassPlan(bool JacobianPass, bool JacobianResidual, bool DrawnPass, bool DrawnResidual, bool EmpiricalPass)
    {
        public static PassPlan Of(FisherQuantity quantities, int draws, int outputs, bool smooth)
        {
            var need = new Needs(quantities);
            bool jacobianPass = need.Gamma || need.Exact || need.V1 || need.V2 || need.V1Bounds || need.V2Bounds;
            // Residuals exist only when some activation is smooth; in ReLU-like networks Î2 = I exactly (§5.3d).
            bool jacobianResidual = smooth && (need.V2 || need.V2Bounds || (need.Gamma && draws >= outputs));
            // With fewer draws than outputs a residual pass over the draws is cheaper than residuals of all K rows.
            bool drawnPass = (need.Scores && !jacobianPass) || (need.Gamma && smooth && !jacobianResidual);
            return new PassPlan(jacobianPass, jacobianResidual, drawnPass, drawnPass && need.Gamma && smooth, need.Empirical && !jacobianPass);
        }

        /// <summary>The streams of all passes together.</summary>
        public int Streams(int outputs, int draws) => (JacobianPass ? outputs : 0) + (DrawnPass ? draws : 0) + (EmpiricalPass ? 1 : 0);
    }

    /// <summary>What the requested quantities need, decided once from <see cref="EstimatorOptions.Quantities"/>.</summary>
    private readonly struct Needs(FisherQuantity quantities)
    {
        public readonly bool I1 = quantities.HasFlag(FisherQuantity.SquaredScore);
        public readonly bool I2 = quantities.HasFlag(FisherQuantity.NegativeHessian);
        public readonly bool Exact = quantities.HasFlag(FisherQuantity.Exact);
        public readonly bool Empirical = quantities.HasFlag(FisherQuantity.Empirical);
        public readonly bool V1 = quantities.HasFlag(FisherQuantity.SquaredScoreVariance);
        public readonly bool V2 = quantities.HasFlag(FisherQuantity.NegativeHessianVariance);
        public readonly bool I1Mean = quantities.HasFlag(FisherQuantity.SquaredScoreInputMean);
        public readonly bool I2Mean = quantities.HasFlag(FisherQuantity.NegativeHessianInputMean);
        public readonly bool Negative = quantities.HasFlag(FisherQuantity.NegativeHessianNegative);
        public readonly bool V1Upper = quantities.HasFlag(FisherQuantity.V1Upper);
        public readonly bool V1Lower = quantities.HasFlag(FisherQuantity.V1Lower);
        public readonly bool V2Upper = quantities.HasFlag(FisherQuantity.V2Upper);
        public readonly bool V2Lower = quantities.HasFlag(FisherQuantity.V2Lower);
        /// <summary>The power streams requested (§3.5); each is computed only with its estimate.</summary>
        public readonly FisherQuantity Powers = quantities & FisherQuantity.PowerSums;
        public readonly bool V1Bounds = (quantities & (FisherQuantity.V1Upper | FisherQuantity.V1Lower)) != 0;
        public readonly bool V2Bounds = (quantities & (FisherQuantity.V2Upper | FisherQuantity.V2Lower)) != 0;

        /// <summary>Drawn-label scores δ.</summary>
        public bool Scores => I1 || I1Mean;

        /// <summary>Drawn-label Î2 unit values Γ = G − R(e).</summary>
        public bool Gamma => I2 || I2Mean || Negative;

        /// <summary>Second derivatives of the activations in the forward trace.</summary>
        public bool Second => Gamma || V2 || V2Bounds;
    }

    /// <summary>
    /// What the layers of one batch read (<see cref="RunPasses"/>): the forward trace, the backward passes, the drawn and
    /// observed scores and streams, and the eigenvalue constants of the bounds. A value passed by reference: nothing is
    /// allocated for it.
    /// </summary>
    private readonly record struct BatchPasses(
        Tensor Output, long Batch, int Draws, Tensor? Centering, IStreamRows? Jacobian,
        Tensor? Score, Tensor? DrawnStreams, IStreamRows? Drawn,
        bool HasObserved, Tensor? ObservedScore, Tensor? ObservedStreams, IStreamRows? Empirical,
        (Tensor Lower, Tensor Upper) FisherEigenvalues, (Tensor Lower, Tensor Upper) ScoreEigenvalues);

    /// <summary>
    /// The per-unit tensors of one layer (<see cref="ComputeForms"/>): drawn-label scores and residuals, observed-label
    /// scores δ, the bounds' unit norms ‖J‖⁴ and ‖H‖², and the label-free forms (exact diagonal, V1, V2).
    /// </summary>
    private readonly record struct LayerForms(Tensor? DrivenScores, Tensor? DrivenResidual, Tensor? Delta, Tensor? J4, Tensor? H2, Tensor? Exact, Tensor? V1, Tensor? V2);
}
