namespace Fisher.EndToEnd.Tests;

/// <summary>Two silos: the fixture of <see cref="ClusterTests"/>.</summary>
public sealed class TwoSiloCluster() : SiloCluster(2);
