using static TorchSharp.torch;

namespace Fisher.Estimators;

/// <summary>
/// Labels drawn from the model: draw k of the input with global index n uses the uniforms (seed, n, k, ·) only,
/// so a label does not depend on the batch, shard or silo that draws it (docs/architecture.md, decision 1).
/// </summary>
internal static class LabelDraws
{
    /// <summary>
    /// Draws <paramref name="draws"/> labels per input for network outputs <paramref name="f"/> (batch, outputs) of
    /// the inputs firstIndex, firstIndex+1, ...; returns labels with a draw axis (see <see cref="Likelihood"/>).
    /// </summary>
    public static Tensor Sample(Likelihood likelihood, Tensor f, ulong seed, long firstIndex, int draws)
    {
        ArgumentNullException.ThrowIfNull(likelihood);
        ArgumentNullException.ThrowIfNull(f);
        ArgumentOutOfRangeException.ThrowIfLessThan(draws, 1);
        int count = (int)f.shape[0];
        int components = likelihood.UniformsPerDraw;
        var uniforms = CounterRandom.Uniforms(seed, firstIndex, count, draws, components);
        using var u = tensor(uniforms, [count, draws, components], ScalarType.Float64);
        return likelihood.SampleLabels(f, u);
    }
}
