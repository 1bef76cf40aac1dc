using System.Globalization;
using Fisher.Contracts;
using Fisher.Data;
using Fisher.Estimators;

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
