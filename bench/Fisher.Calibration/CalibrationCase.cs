using Fisher.Estimators;

namespace Fisher.Calibration;

/// <summary>
/// One configuration of the calibration suite: a small random MLP (widths 4-8-6-outputs) with an activation and an
/// output family, N inputs per job drawn with replacement from a fixed pool (the "input distribution"), K label draws
/// per input, and <see cref="Repetitions"/> jobs with their own label seeds and input subsets.
/// </summary>
public sealed record CalibrationCase(LikelihoodFamily Family, string Activation, int Draws, int Inputs, int Repetitions)
{
    /// <summary>Network widths: 4 inputs, hidden 8 and 6, then the family's outputs.</summary>
    public int[] Widths => [4, 8, 6, Outputs];

    /// <summary>3 classes, 2 Gaussian outputs or 3 Bernoulli outputs.</summary>
    public int Outputs => OutputsOf(Family);

    /// <summary>The outputs of a family's networks in the suite.</summary>
    public static int OutputsOf(LikelihoodFamily family) => family == LikelihoodFamily.Gaussian ? 2 : 3;

    /// <summary>Size of the input pool whose exact Fisher is the distribution target.</summary>
    public const int PoolSize = 20_000;

    public string Name => $"{Family.ToString().ToLowerInvariant()} {Activation} K={Draws} N={Inputs}";
}
