using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// Back-propagates S output-space vectors per input ("streams") through the network in one batched pass
/// (estimators.md §9.1, §9.2, §9.5b). For a stream v (∂φ/∂f of a scalar φ linear in f) it yields at every
/// pre-activation z^l the first-order vector ∂φ/∂z^l and, when asked, the diagonal of the residual curvature
/// ∂²φ/∂z^l² that smooth activations add: r^l = σ''(z^l) ⊙ (W^{l+1})ᵀ g^{l+1}, plus the residuals of deeper layers
/// pulled back through D (W)ᵀ. The residual one layer up needs only a matrix–vector product with W∘²; residuals
/// from two or more layers up are carried as per-input factors F = D_l W^{l+1}ᵀ ⋯ (the width-cubic part).
/// </summary>
internal sealed class StreamBackward
{
    private StreamBackward(Tensor?[] firstOrder, Tensor?[] residual)
    {
        FirstOrder = firstOrder;
        Residual = residual;
    }

    /// <summary>∂φ/∂z^l per layer, (batch, streams, n_l); null below the lowest requested layer.</summary>
    public Tensor?[] FirstOrder { get; }

    /// <summary>diag ∂²φ/∂z^l² per layer, (batch, streams, n_l); null where zero (output layer, piecewise-linear layers above) or not requested.</summary>
    public Tensor?[] Residual { get; }

    /// <summary>
    /// The pass over the identity streams (one per output: the Jacobian rows ∂f_o/∂z^l), or, with centring weights w
    /// (batch, outputs), over the streams e_o − w (rows J − 1wᵀJ; Likelihood.StreamCentering). The first pull-back is
    /// the output weight itself (minus wᵀW), broadcast over the batch, so it costs no batched product.
    /// </summary>
    public static StreamBackward RunJacobian(ForwardTrace trace, Tensor? centering, bool withResidual, int lowest)
    {
        var f = trace.Output;
        int outputs = (int)f.shape[1];
        var top = eye(outputs, dtype: f.dtype).unsqueeze(0);
        top = centering is null ? top.expand(f.shape[0], outputs, outputs) : top.Minus(centering.unsqueeze(1));
        Tensor? firstPull = null;
        if (trace.Network.Layers.Count > 1)
        {
            var weight = trace.Network.Layers[^1].Weight;
            firstPull = centering is null ? weight.unsqueeze(0) : weight.unsqueeze(0).Minus(centering.matmul(weight).unsqueeze(1));
        }
        return Run(trace, top, withResidual, lowest, firstPull);
    }

    /// <summary>Runs the pass from the output (layer L−1) down to <paramref name="lowest"/>.</summary>
    public static StreamBackward Run(ForwardTrace trace, Tensor top, bool withResidual, int lowest) =>
        Run(trace, top, withResidual, lowest, firstPull: null);

    private static StreamBackward Run(ForwardTrace trace, Tensor top, bool withResidual, int lowest, Tensor? firstPull)
    {
        var layers = trace.Network.Layers;
        int last = layers.Count - 1;
        var firstOrder = new Tensor?[layers.Count];
        var residual = new Tensor?[layers.Count];
        firstOrder[last] = top;

        var g = top;
        Tensor? residualAbove = null;                 // r^{l+1}, (B, S, n_{l+1})
        var carried = new List<(Tensor Factor, Tensor Residual)>(); // F (B, n_l, n_m) with residual r^m (B, S, n_m)
        for (int l = last - 1; l >= lowest; l--)
        {
            var weight = layers[l + 1].Weight;        // (n_{l+1}, n_l)
            var pulled = l == last - 1 && firstPull is not null ? firstPull : g.matmul(weight); // (W^{l+1})ᵀ g^{l+1}, row form
            var d1 = trace.FirstDerivative[l]!.unsqueeze(1);
            g = d1 * pulled;
            firstOrder[l] = g;
            // r^l is zero for piecewise-linear activations (σ'' = 0); deeper residuals still pass through.
            var r = withResidual && trace.SecondDerivative[l] is { } d2 ? d2.unsqueeze(1) * pulled : null;
            if (!ReferenceEquals(pulled, firstPull))
                pulled.Dispose(); // used up: freed now for a smaller working set
            if (!withResidual)
                continue;

            var diagonal = r;
            if (residualAbove is not null)
            {
                // diag(D W^T diag(r^{l+1}) W D) = σ'² ⊙ (W∘²)^T r^{l+1}
                var pulledResidual = residualAbove.matmul(layers[l + 1].WeightSquared);
                var above = d1.Sq() * pulledResidual;
                pulledResidual.Dispose();
                if (diagonal is not null)
                {
                    var total = diagonal.Plus(above); // diagonal is r, still needed one layer down
                    above.Dispose();
                    above = total;
                }
                diagonal = above;
            }
            for (int c = 0; c < carried.Count; c++)
            {
                var (factor, deeper) = carried[c];
                var moved = trace.FirstDerivative[l]!.unsqueeze(2) * weight.t().matmul(factor); // (B, n_l, n_m)
                var contribution = deeper.matmul(moved.Sq().transpose(1, 2));
                diagonal = diagonal is null ? contribution : diagonal.Plus(contribution);
                carried[c] = (moved, deeper);
            }
            if (residualAbove is not null && l > lowest)
                carried.Add((trace.FirstDerivative[l]!.unsqueeze(2) * weight.t().unsqueeze(0), residualAbove));
            residual[l] = diagonal;
            residualAbove = r;
        }
        return new StreamBackward(firstOrder, residual);
    }
}
