using System.Globalization;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;
using Microsoft.Extensions.DependencyInjection;

namespace Fisher.Grains.Tests;

/// <summary>
/// The planner weighs a layer-graph job's estimated multiply-adds per input (the estimator's own
/// <c>LayerGraph.EstimateCost</c>) against <see cref="FisherOptions.CostBudget"/> and refuses a job over it with the
/// number, the budget and the layer that drives it; a job at the budget is planned; MLPs are not weighed.
/// </summary>
public sealed class CostBudgetTests
{
    private static readonly DataRoots Roots = new(TestData.DataRoots, FisherHosting.DataRootsSetting);

    private static Fisher.Estimators.Graph.EstimatorCost Cost(JobSpec spec)
    {
        TorchRuntime.Configure(1);
        using var network = LoadedNetwork.Load(ModelArchitecture.Read(spec.ArchitecturePath), spec.ModelPath, JobPlanner.Resolve(spec).DType);
        return network.Graph!.EstimateCost(JobPlanner.EstimatorOptionsOf(spec, parameters: null));
    }

    [Fact]
    public void A_graph_job_over_the_cost_budget_is_refused_naming_the_number_the_budget_and_the_driving_layer()
    {
        using var cnn = new ResidualCnn(rows: 40);
        var spec = cnn.Spec(inputs: 40, shards: 2, grouping: "layer");
        var cost = Cost(spec);
        Assert.True(cost.SecondOrderPerInput > 0, "tanh and SiLU make Î2 and V2 second-order");
        Assert.Contains(cost.DrivingLayer, ResidualCnn.ParameterLayers);
        double budget = cost.MultiplyAddsPerInput * 0.999;

        var e = Assert.Throws<JobSpecException>(() => JobPlanner.Plan(spec, Roots, FisherOptions.DefaultMemoryBudget, budget));
        Assert.Equal(string.Create(CultureInfo.InvariantCulture,
            $"cost: the job needs an estimated {cost.MultiplyAddsPerInput:0.###e0} multiply-adds per input ({cost.SecondOrderPerInput:0.###e0} for exact per-sample Hessian diagonals), over the cost budget of {budget:0.###e0} (Fisher:Grains:CostBudget); driving layer: '{cost.DrivingLayer}'"), e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(2 * 7, JobPlanner.Plan(spec, Roots, FisherOptions.DefaultMemoryBudget, cost.MultiplyAddsPerInput).Tasks.Count);
        Assert.Equal(2 * 7, JobPlanner.Plan(spec, Roots, FisherOptions.DefaultMemoryBudget).Tasks.Count); // the default budget admits it
    }

    [Fact]
    public void First_order_quantities_cost_less_than_exact_per_sample_hessians_and_fit_a_budget_those_exceed()
    {
        using var cnn = new ResidualCnn(rows: 40);
        var all = cnn.Spec(inputs: 40, shards: 1, grouping: "all");
        var firstOrder = all with { Quantities = FisherQuantityNames.Parse("i1,exact,empirical") };
        var (full, cheap) = (Cost(all), Cost(firstOrder));
        Assert.Equal(0, cheap.SecondOrderPerInput);
        Assert.True(cheap.MultiplyAddsPerInput < full.MultiplyAddsPerInput);
        double between = (cheap.MultiplyAddsPerInput + full.MultiplyAddsPerInput) / 2;
        Assert.Single(JobPlanner.Plan(firstOrder, Roots, FisherOptions.DefaultMemoryBudget, between).Tasks);
        Assert.Throws<JobSpecException>(() => JobPlanner.Plan(all, Roots, FisherOptions.DefaultMemoryBudget, between));
    }

    [Fact]
    public void An_mlp_is_not_weighed()
    {
        var spec = TestData.Spec(inputs: 200, shards: 1, grouping: "all");
        Assert.Single(JobPlanner.Plan(spec, Roots, FisherOptions.DefaultMemoryBudget, costBudget: 1).Tasks);
    }
}

/// <summary>One silo whose <see cref="FisherOptions.CostBudget"/> is 1e5 multiply-adds per input.</summary>
public sealed class SmallCostBudgetCluster : IAsyncLifetime
{
    public const double Budget = 1e5;

    public Orleans.TestingHost.TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _ = TestRedis.ConnectionString;
        var builder = new Orleans.TestingHost.TestClusterBuilder(1);
        builder.AddSiloBuilderConfigurator<Configurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    private sealed class Configurator : Orleans.TestingHost.ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            new FisherSiloConfigurator().Configure(siloBuilder);
            siloBuilder.Services.Configure<FisherOptions>(o => o.CostBudget = Budget);
        }
    }
}

/// <summary>The silo option reaches the planner: a CNN job over the silo's cost budget is refused at start, one under it runs.</summary>
[Collection("clusters")]
public sealed class CostBudgetClusterTests(SmallCostBudgetCluster fixture) : IClassFixture<SmallCostBudgetCluster>
{
    [Fact]
    public async Task A_silo_refuses_a_cnn_job_over_its_cost_budget_and_runs_a_first_order_one()
    {
        using var cnn = new ResidualCnn(rows: 40);
        var grains = fixture.Cluster.GrainFactory;
        var refused = await grains.GetGrain<IFisherJobGrain>("cost-" + Guid.NewGuid().ToString("N")[..8]).StartAsync(cnn.Spec(inputs: 40, shards: 1, grouping: "all"));
        Assert.Equal(JobState.Failed, refused.State);
        Assert.Equal(0, refused.TasksTotal);
        Assert.Matches(@"^cost: the job needs an estimated [\d.]+e6 multiply-adds per input \([\d.]+e6 for exact per-sample Hessian diagonals\), over the cost budget of 1e5 \(Fisher:Grains:CostBudget\); driving layer: '[\w.]+'$", refused.Error);

        var firstOrder = cnn.Spec(inputs: 40, shards: 2, grouping: "layer") with { Quantities = FisherQuantityNames.Parse("i1,exact,empirical") };
        var ran = await TestData.RunToEnd(grains, "cost-ok-" + Guid.NewGuid().ToString("N")[..8], firstOrder, TestTimeouts.Job);
        Assert.True(ran.State == JobState.Completed, ran.Error);
    }
}
