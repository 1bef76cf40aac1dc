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
    private readonly FeedForwardNetwork _network;
    private readonly Likelihood _likelihood;
    private readonly EstimatorOptions _options;
    private readonly ParameterInfo?[] _weights;
    private readonly ParameterInfo?[] _biases;
    private readonly int _lowestLayer;

    /// <summary>Creates an estimator; validates that the likelihood reads as many outputs as the network has.</summary>
    public FisherEstimator(FeedForwardNetwork network, Likelihood likelihood, EstimatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(likelihood);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (likelihood.Outputs != network.OutputWidth)
            throw new InvalidNetworkException($"the {likelihood.Name} likelihood reads {likelihood.Outputs} outputs but the network's last layer '{network.Layers[^1].Name}' has {network.OutputWidth}");
        _network = network;
        _likelihood = likelihood;
        _options = options;

        int layers = network.Layers.Count;
        _weights = new ParameterInfo?[layers];
        _biases = new ParameterInfo?[layers];
        var names = options.Parameters ?? network.Layout.Parameters.Select(p => p.Name).ToArray();
        foreach (var name in names)
        {
            var info = network.Layout[name];
            if (info.Kind == ParameterKind.Weight)
                _weights[info.LayerIndex] = info;
            else
                _biases[info.LayerIndex] = info;
        }
        _lowestLayer = Enumerable.Range(0, layers).First(l => _weights[l] is not null || _biases[l] is not null);
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

    private void AccumulateCore(FisherAccumulator accumulator, Tensor inputs, Tensor? labels, long firstSampleIndex, Tensor? drawnLabels)
    {
        var quantities = _options.Quantities;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var x = PrepareInputs(inputs);
        long batch = x.shape[0];
        Tensor? observed = null;
        if (quantities.HasFlag(FisherQuantity.Empirical))
        {
            if (labels is null)
                throw new InvalidBatchException("labels", "the empirical Fisher needs the observed labels of the batch");
            observed = _likelihood.PrepareObservedLabels(labels, batch, _network.DType);
        }
        ArgumentOutOfRangeException.ThrowIfNegative(firstSampleIndex);

        bool needI1 = quantities.HasFlag(FisherQuantity.SquaredScore);
        bool needI2 = quantities.HasFlag(FisherQuantity.NegativeHessian);
        bool needExact = quantities.HasFlag(FisherQuantity.Exact);
        bool needV1 = quantities.HasFlag(FisherQuantity.SquaredScoreVariance);
        bool needV2 = quantities.HasFlag(FisherQuantity.NegativeHessianVariance);
        bool needI1Mean = quantities.HasFlag(FisherQuantity.SquaredScoreInputMean);
        bool needI2Mean = quantities.HasFlag(FisherQuantity.NegativeHessianInputMean);
        bool needNegative = quantities.HasFlag(FisherQuantity.NegativeHessianNegative);
        bool needV1Bounds = (quantities & (FisherQuantity.V1Upper | FisherQuantity.V1Lower)) != 0;
        bool needV2Bounds = (quantities & (FisherQuantity.V2Upper | FisherQuantity.V2Lower)) != 0;
        bool needScores = needI1 || needI1Mean;                  // drawn-label scores δ
        bool needGamma = needI2 || needI2Mean || needNegative;   // drawn-label Î2 unit values Γ = G − R(e)
        bool needSecond = needGamma || needV2 || needV2Bounds;
        var trace = ForwardTrace.Run(_network, x, needSecond);
        var f = trace.Output;
        if (!AllFinite(f))
            throw new InvalidBatchException("inputs", "the network output is NaN or infinite for this batch");

        var counts = new List<StreamCount>();
        var gramBlocks = new List<GramBlock>();
        int layers = _network.Layers.Count;

        int outputs = _likelihood.Outputs;
        int draws = _options.DrawsPerInput;

        // One pass over the K output-space identity streams gives the Jacobian rows J^l[o] = ∂f_o/∂z^l and, with
        // residuals, the diagonals R^l[o] = diag ∂²f_o/∂z^l² (H_i per output, §1.2); for the softmax the streams are
        // centred (e_o − p: rows J − 1pᵀJ, Likelihood.StreamCentering), which leaves every form below unchanged. Everything label-free follows per unit:
        // I = Jᵀ Σ_f J, V1 = E(Jᵀe)⁴ − I², V2 = Rᵀ Σ_f R (§3.1). Back-propagation is linear in the top vector, so
        // for any score e the first-order vector is eᵀJ and the residual eᵀR: draws and observed labels need no
        // pass of their own once this one exists.
        // Residuals exist only when some activation is smooth; in ReLU-like networks Î2 = I exactly (§5.3d).
        bool smooth = _network.Activations.Any(a => !a.IsPiecewiseLinear);
        bool jacobianPass = needGamma || needExact || needV1 || needV2 || needV1Bounds || needV2Bounds;
        bool jacobianResidual = smooth && (needV2 || needV2Bounds || (needGamma && draws >= outputs));
        StreamBackward? jacobian = null;
        Tensor? centering = null; // the Jacobian rows are centred (J − 1pᵀJ for the softmax): same quadratic forms, cheaper
        if (jacobianPass)
        {
            centering = _likelihood.StreamCentering(f);
            jacobian = StreamBackward.RunJacobian(trace, centering, jacobianResidual, _lowestLayer);
        }

        // Scores e = ∂ℓ/∂f, (B, draws, outputs), are needed only for a pass of their own or where they are not one of
        // the centred streams (then eᵀ(rows) is a product, not a selection of rows).
        Tensor? score = null, drawnStreams = null;
        StreamBackward? drawn = null;
        if (needScores || needGamma)
        {
            var y = drawnLabels ?? LabelDraws.Sample(_likelihood, f, _options.Seed, firstSampleIndex, draws);
            drawnStreams = centering is null ? null : _likelihood.CenteredStreamOf(y);
            // With fewer draws than outputs a residual pass over the draws is cheaper than residuals of all K rows.
            bool drawnPass = (needScores && jacobian is null) || (needGamma && smooth && !jacobianResidual);
            score = drawnPass || drawnStreams is null ? _likelihood.Score(f, y) : null;
            if (drawnPass)
                drawn = StreamBackward.Run(trace, score!, withResidual: needGamma && smooth, _lowestLayer);
        }
        Tensor? observedStreams = observed is null || centering is null ? null : _likelihood.CenteredStreamOf(observed);
        Tensor? observedScore = observed is not null && (observedStreams is null || jacobian is null) ? _likelihood.Score(f, observed) : null;
        StreamBackward? empirical = observed is not null && jacobian is null ? StreamBackward.Run(trace, observedScore!, false, _lowestLayer) : null;

        // Per-input eigenvalue constants of the bounds (§4.1, §4.2), (B, 1) to scale the unit norms.
        var fisherEigenvalues = needV2Bounds ? _likelihood.OutputFisherEigenvalues(f) : default;
        var scoreEigenvalues = needV1Bounds ? _likelihood.ScoreCovarianceEigenvalues(f) : default;

        for (int l = _lowestLayer; l < layers; l++)
        {
            var weight = _weights[l];
            var bias = _biases[l];
            if (weight is null && bias is null)
                continue;
            // The layer's temporaries are freed when it is done (a smaller working set than the whole batch's); only the
            // Gram factors the accumulator merges at the end of the batch move out.
            int blocksBefore = gramBlocks.Count;
            using var layerScope = NewDisposeScope();
            var rows = jacobian?.FirstOrder[l];      // (B, K, n_l)
            var rowResiduals = jacobian?.Residual[l]; // (B, K, n_l); null in the output layer (zero)
            // Everything that reads the raw rows first (selections of drawn and observed rows, the bounds' norms); then
            // the label-free forms, which may square the rows in place (the jacobian pass is done with them).
            var drivenScores = needScores ? drawn?.FirstOrder[l] ?? Drive(score, drawnStreams, rows!) : null;
            var drivenResidual = needGamma ? drawn?.Residual[l] ?? (rowResiduals is null ? null : Drive(score, drawnStreams, rowResiduals)) : null;
            var delta = observed is null ? null : empirical?.FirstOrder[l] ?? Drive(observedScore, observedStreams, rows!);
            // ‖J_i‖⁴ = a_k⁴ ‖J_j‖⁴ for W_jk (pre-activation trick), so the bound is a per-unit value times a_k⁴.
            var j4 = needV1Bounds ? _likelihood.ProjectRows(rows!).Sq().sum(1).Sq() : null;
            // ‖H_i‖² = a_k⁴ ‖R_j‖² for W_jk; zero where h is affine in the parameter (output layer, ReLU layers).
            var h2 = needV2Bounds && rowResiduals is not null ? _likelihood.ProjectRows(rowResiduals).Sq().sum(1) : null;
            Tensor? exact = null, v1 = null, v2 = null;
            if (rows is not null)
            {
                (exact, v1) = centering is null
                    ? (_likelihood.QuadraticForm(f, rows), needV1 ? _likelihood.ScoreFourthMomentVariance(f, rows) : null)
                    : _likelihood.CenteredForms(f, centering, rows, fisher: true, v1: needV1, consume: true);
            }
            if (needV2 && rowResiduals is not null)
            {
                v2 = centering is null
                    ? _likelihood.QuadraticForm(f, rowResiduals)
                    : _likelihood.CenteredForms(f, centering, rowResiduals, fisher: true, v1: false, consume: true).Fisher!;
            }
            var units = new List<UnitValues>(13);
            if (needScores)
            {
                var squares = drivenScores!.Sq();
                if (needI1)
                    units.Add(new UnitValues(FisherQuantity.SquaredScore, squares, 2));
                if (needI1Mean)
                    units.Add(new UnitValues(FisherQuantity.SquaredScoreInputMean, squares.mean([1]), 2));
            }
            if (needGamma)
            {
                // −∂²ℓ/∂z² = G − R(e): the GGN part is label-free, the residual is driven by e (§9.2).
                if (drivenResidual is null)
                {
                    // No residual curvature at this layer (the output layer; every layer of a piecewise-linear net): every
                    // Î2 draw equals the exact diagonal (§5.3d), whose products serve for Î2 as well.
                    if (needI2)
                        units.Add(needExact
                            ? UnitValues.Repeat(FisherQuantity.NegativeHessian, FisherQuantity.Exact, draws)
                            : new UnitValues(FisherQuantity.NegativeHessian, exact!, 2, Repeats: draws));
                    if (needI2Mean)
                        units.Add(needExact
                            ? UnitValues.Repeat(FisherQuantity.NegativeHessianInputMean, FisherQuantity.Exact, 1)
                            : new UnitValues(FisherQuantity.NegativeHessianInputMean, exact!, 2));
                    if (needNegative)
                        units.Add(UnitValues.Zero(FisherQuantity.NegativeHessianNegative, batch * draws)); // the exact diagonal is ≥ 0
                }
                else
                {
                    var gamma = exact!.unsqueeze(1).Minus(drivenResidual);
                    if (needI2)
                        units.Add(new UnitValues(FisherQuantity.NegativeHessian, gamma, 2));
                    if (needI2Mean)
                        units.Add(new UnitValues(FisherQuantity.NegativeHessianInputMean, gamma.mean([1]), 2));
                    if (needNegative)
                    {
                        // a_k² Γ_j < 0 ⇔ Γ_j < 0 and a_k ≠ 0 (§7.2): an indicator of Γ against an indicator of A.
                        var negative = gamma.lt(TensorMath.C(0, gamma.dtype)).to(gamma.dtype);
                        units.Add(new UnitValues(FisherQuantity.NegativeHessianNegative, negative, LinearMomentRule.NonZeroIndicator));
                    }
                }
            }
            if (needExact)
                units.Add(new UnitValues(FisherQuantity.Exact, exact!, 2));
            if (delta is not null)
                units.Add(new UnitValues(FisherQuantity.Empirical, delta.Sq(), 2));
            if (needV1)
                units.Add(new UnitValues(FisherQuantity.SquaredScoreVariance, v1!, 4));
            if (needV2)
                units.Add(v2 is null ? UnitValues.Zero(FisherQuantity.NegativeHessianVariance, batch) : new UnitValues(FisherQuantity.NegativeHessianVariance, v2, 4));
            if (j4 is not null)
            {
                if (quantities.HasFlag(FisherQuantity.V1Upper))
                    units.Add(new UnitValues(FisherQuantity.V1Upper, j4.mul(scoreEigenvalues.Upper.unsqueeze(1)), 4));
                if (quantities.HasFlag(FisherQuantity.V1Lower))
                    units.Add(new UnitValues(FisherQuantity.V1Lower, j4.mul(scoreEigenvalues.Lower.unsqueeze(1)), 4));
            }
            if (needV2Bounds)
            {
                if (quantities.HasFlag(FisherQuantity.V2Upper))
                    units.Add(h2 is null ? UnitValues.Zero(FisherQuantity.V2Upper, batch) : new UnitValues(FisherQuantity.V2Upper, h2.mul(fisherEigenvalues.Upper.unsqueeze(1)), 4));
                if (quantities.HasFlag(FisherQuantity.V2Lower))
                    units.Add(h2 is null ? UnitValues.Zero(FisherQuantity.V2Lower, batch) : new UnitValues(FisherQuantity.V2Lower, h2.mul(fisherEigenvalues.Lower.unsqueeze(1)), 4));
            }
            LinearMomentRule.Accumulate(counts, gramBlocks, weight, bias, units, trace.LayerInputs[l], _options.DoublePrecisionMoments ? ScalarType.Float64 : _network.DType);
            KeepForMerge(layerScope, gramBlocks, blocksBefore);
        }
        accumulator.Merge(batch, counts, gramBlocks);
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
        if (inputs.dim() != 2 || inputs.shape[1] != _network.InputWidth)
            throw new InvalidBatchException("inputs", $"expected shape [batch, {_network.InputWidth}] for the network's first layer '{_network.Layers[0].Name}', got [{string.Join(", ", inputs.shape)}]");
        if (inputs.shape[0] < 1)
            throw new InvalidBatchException("inputs", "the batch is empty");
        if (!inputs.is_floating_point())
            throw new InvalidBatchException("inputs", $"expected float32 or float64 inputs, got {inputs.dtype}");
        if (!AllFinite(inputs))
            throw new InvalidBatchException("inputs", "contain NaN or infinity");
        return inputs.to(_network.DType);
    }
}
