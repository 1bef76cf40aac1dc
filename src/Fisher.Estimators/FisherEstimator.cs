using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// Computes, for a batch of inputs, the moments (n, mean, M2) of every requested per-sample Fisher quantity for
/// every requested parameter (estimators.md §9.4–9.6): Î1 and Î2 terms with labels drawn from the model, the exact
/// conditional diagonal I(θ|x), the empirical Fisher with observed labels, and the closed-form conditional
/// variances V1(θ|x) and V2(θ|x). All per-sample work is batched: a handful of backward passes over "streams"
/// (sampled-label scores, columns of √Σ, or Jacobian rows) and one Gram product per parameter tensor; no
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
    public FisherMoments Estimate(Tensor inputs, Tensor? labels, long firstSampleIndex) =>
        EstimateCore(inputs, labels, firstSampleIndex, drawnLabels: null);

    /// <summary>
    /// As <see cref="Estimate"/>, but with the labels of the "draws" given instead of sampled: (batch, draws) class
    /// indices or (batch, draws, outputs) values. For tests that enumerate labels.
    /// </summary>
    internal FisherMoments EstimateWithDrawnLabels(Tensor inputs, Tensor? labels, Tensor drawnLabels) =>
        EstimateCore(inputs, labels, 0, drawnLabels);

    private FisherMoments EstimateCore(Tensor inputs, Tensor? labels, long firstSampleIndex, Tensor? drawnLabels)
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

        bool needSecond = quantities.HasFlag(FisherQuantity.NegativeHessian) || quantities.HasFlag(FisherQuantity.NegativeHessianVariance);
        var trace = ForwardTrace.Run(_network, x, needSecond);
        var f = trace.Output;
        if (!AllFinite(f))
            throw new InvalidBatchException("inputs", "the network output is NaN or infinite for this batch");

        var result = new FisherMoments();
        result.AddInputs(batch);
        int layers = _network.Layers.Count;

        // Exact conditional Fisher per unit, G^l_jj (and V1 per unit) from Jacobian rows or from √Σ columns.
        var exactUnits = new Tensor?[layers];
        var scoreVarianceUnits = new Tensor?[layers];
        var hessianVarianceUnits = new Tensor?[layers];
        bool needExact = quantities.HasFlag(FisherQuantity.Exact) || quantities.HasFlag(FisherQuantity.NegativeHessian);
        bool needV1 = quantities.HasFlag(FisherQuantity.SquaredScoreVariance);
        bool needV2 = quantities.HasFlag(FisherQuantity.NegativeHessianVariance);
        if (needV1)
        {
            // Streams = Jacobian rows: stream o back-propagates e_o, giving ∂f_o/∂z^l.
            var identity = eye(_likelihood.Outputs, dtype: f.dtype).expand(batch, _likelihood.Outputs, _likelihood.Outputs);
            var jacobian = StreamBackward.Run(trace, identity, withResidual: false, _lowestLayer);
            for (int l = _lowestLayer; l < layers; l++)
            {
                exactUnits[l] = _likelihood.QuadraticForm(f, jacobian.FirstOrder[l]!);
                scoreVarianceUnits[l] = _likelihood.ScoreFourthMomentVariance(f, jacobian.FirstOrder[l]!);
            }
        }
        if ((needExact && !needV1) || needV2)
        {
            // Streams = columns of A (A Aᵀ = Σ_f): U^l = D W^T U^{l+1}, G^l_jj = Σ_c (U^l_jc)²; with residuals,
            // M^l[f_c]_jj for φ_c = A[:, c]ᵀ f gives V2 = Σ_c (M^l[f_c]_jj)² (estimators.md §9.2 table).
            var columns = _likelihood.SqrtOutputFisher(f).transpose(1, 2);
            var pass = StreamBackward.Run(trace, columns, withResidual: needV2, _lowestLayer);
            for (int l = _lowestLayer; l < layers; l++)
            {
                exactUnits[l] ??= pass.FirstOrder[l]!.Sq().sum(1);
                if (needV2)
                    hessianVarianceUnits[l] = pass.Residual[l] is { } residual ? residual.Sq().sum(1) : zeros_like(exactUnits[l]!);
            }
        }

        bool needI1 = quantities.HasFlag(FisherQuantity.SquaredScore);
        bool needI2 = quantities.HasFlag(FisherQuantity.NegativeHessian);
        StreamBackward? drawn = null;
        if (needI1 || needI2)
        {
            var y = drawnLabels ?? LabelDraws.Sample(_likelihood, f, _options.Seed, firstSampleIndex, _options.DrawsPerInput);
            var score = _likelihood.Score(f, y);  // e = ∂ℓ/∂f, (B, K draws, outputs)
            drawn = StreamBackward.Run(trace, score, withResidual: needI2, _lowestLayer);
        }
        StreamBackward? empirical = observed is null ? null : StreamBackward.Run(trace, _likelihood.Score(f, observed), false, _lowestLayer);

        for (int l = _lowestLayer; l < layers; l++)
        {
            var weight = _weights[l];
            var bias = _biases[l];
            if (weight is null && bias is null)
                continue;
            var units = new List<UnitValues>(6);
            if (needI1)
                units.Add(new UnitValues(FisherQuantity.SquaredScore, drawn!.FirstOrder[l]!.Sq(), 2));
            if (needI2)
            {
                // −∂²ℓ/∂z² = G − R(e): the GGN part is label-free, the residual is driven by e (§9.2).
                var gamma = exactUnits[l]!.unsqueeze(1);
                if (drawn!.Residual[l] is { } residual)
                    gamma = gamma.sub(residual);
                else
                    gamma = gamma.expand(batch, _options.DrawsPerInput, gamma.shape[2]);
                units.Add(new UnitValues(FisherQuantity.NegativeHessian, gamma, 2));
            }
            if (quantities.HasFlag(FisherQuantity.Exact))
                units.Add(new UnitValues(FisherQuantity.Exact, exactUnits[l]!, 2));
            if (empirical is not null)
                units.Add(new UnitValues(FisherQuantity.Empirical, empirical.FirstOrder[l]!.Sq(), 2));
            if (needV1)
                units.Add(new UnitValues(FisherQuantity.SquaredScoreVariance, scoreVarianceUnits[l]!, 4));
            if (needV2)
                units.Add(new UnitValues(FisherQuantity.NegativeHessianVariance, hessianVarianceUnits[l]!, 4));
            LinearMomentRule.Accumulate(result, weight, bias, units, trace.LayerInputs[l], _options.DoublePrecisionMoments ? ScalarType.Float64 : _network.DType);
        }
        return result;
    }

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
