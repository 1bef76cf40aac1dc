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
        return Run(trace, top, withResidual, lowest, firstPull, ownsFirstPull: centering is not null);
    }

    /// <summary>Runs the pass from the output (layer L−1) down to <paramref name="lowest"/>.</summary>
    public static StreamBackward Run(ForwardTrace trace, Tensor top, bool withResidual, int lowest) =>
        Run(trace, top, withResidual, lowest, firstPull: null, ownsFirstPull: false);

    private static StreamBackward Run(ForwardTrace trace, Tensor top, bool withResidual, int lowest, Tensor? firstPull, bool ownsFirstPull)
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
            var d2 = withResidual ? trace.SecondDerivative[l]?.unsqueeze(1) : null; // null: σ'' = 0 (piecewise-linear)
            // diag(D W^T diag(r^{l+1}) W D) = σ'² ⊙ (W∘²)^T r^{l+1}: the residual from one layer up.
            Tensor? above = null;
            if (withResidual && residualAbove is not null)
            {
                above = residualAbove.matmul(layers[l + 1].WeightSquared);
                above.mul_(d1.Sq());
            }
            // r^l = σ'' ⊙ pulled, this layer's own residual; it is needed on its own one layer down, so only at the lowest
            // layer is it added straight into the residual from above. Products land in place wherever the tensor is
            // this pass's own (fresh memory costs more than the multiplication: these are a batch's largest tensors).
            Tensor? r = null, diagonal = above;
            if (d2 is not null)
            {
                if (above is not null && l == lowest)
                    above.PlusProductInPlace(d2, pulled);
                else
                {
                    r = d2 * pulled;
                    diagonal = above is null ? r : above.PlusInPlace(r);
                }
            }
            // The broadcast output weight (no centring) is not this pass's own.
            g = ReferenceEquals(pulled, firstPull) && !ownsFirstPull ? d1 * pulled : pulled.mul_(d1);
            firstOrder[l] = g;
            if (!withResidual)
                continue;

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
