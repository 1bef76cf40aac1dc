namespace Fisher.Grains.Tests;

/// <summary>Cluster tests run one at a time: each deploys silos in this process and they share two cores.</summary>
[CollectionDefinition("clusters", DisableParallelization = true)]
public sealed class ClusterCollection;
