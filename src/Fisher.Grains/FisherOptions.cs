namespace Fisher.Grains;

/// <summary>
/// Tuning of the job grains. Defaults suit a silo of 2 cores; tests shorten the lease. Fisher.Silo binds it to
/// <see cref="SectionName"/>; <see cref="FisherOptionsValidator"/> checks it when the silo starts.
/// </summary>
public sealed class FisherOptions
{
    /// <summary>The configuration section Fisher.Silo binds (<c>Fisher:Grains:TasksPerSilo</c>, ...).</summary>
    public const string SectionName = "Fisher:Grains";

    /// <summary>
    /// A running task whose worker has not reported for this long is re-dispatched. It must outlast the longest gap between
    /// a worker's reports on a busy silo (a batch, a chunk of its partial); 30 s proved too short on a 2-core machine
    /// running three silos with the float64 power sums of issue 16.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A started task whose worker has not confirmed the start (its first report, sent as it adopts the task) within this
    /// long, or within <see cref="LeaseDuration"/> if that is shorter, goes back to pending: its start was lost (the
    /// one-way start reached a silo that was stopping, say). A worker confirms before it reads anything, so the default
    /// leaves a loaded silo ample room; a confirmation that comes later only finds its attempt superseded.
    /// </summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the coordinator checks leases and dispatches pending tasks.</summary>
    public TimeSpan DispatchPeriod { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Compute time a worker spends per step before it reports progress (keeps every call short).</summary>
    public TimeSpan WorkerSlice { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Doubles per partial chunk (mean and M2 together): 2 x 256k doubles = 4 MB, far below the 100 MB message cap.</summary>
    public int ChunkElements { get; set; } = 262_144;

    /// <summary>
    /// Dedicated threads that run a silo's tensor work (<see cref="Grains.ComputeThreads"/>); default: the processor
    /// count.
    /// </summary>
    public int ComputeThreadCount { get; set; } = Environment.ProcessorCount;

    /// <summary>How long Redis keeps a job's state after its last write (fetch results before then).</summary>
    public TimeSpan StateExpiry { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Torch threads per silo process (parallelism comes from running several workers).</summary>
    public int TorchThreads { get; set; } = 1;

    /// <summary>
    /// Persist an aggregator's merged state after every merge (default). An embedded single silo turns this off: its
    /// process is the only place the state could live anyway, so each merge skips a copy and serialization of the
    /// whole aggregate, and aggregators are kept from idle collection instead.
    /// </summary>
    public bool PersistAggregates { get; set; } = true;

    /// <summary>
    /// Tasks computing at once per active silo when a job does not set its own limit (tasks that only ship their partial
    /// do not count).
    /// </summary>
    public int TasksPerSilo { get; set; } = 2;

    /// <summary>
    /// Attempts a task may lose (its worker stopped reporting, as when the task takes its silo down) before the job
    /// fails with the reason instead of dispatching it again. Attempts are persisted, so a restarted cluster counts on.
    /// </summary>
    public int MaxTaskAttempts { get; set; } = 5;

    /// <summary>
    /// How often a coordinator asks the membership for the active silos (where tasks go, and how many run at once): a
    /// silo added mid-job gets tasks from the next count on; a stopping one is avoided as soon as its workers hand back.
    /// </summary>
    public TimeSpan SiloCountPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a stopping silo waits for its workers to hand their tasks back to their coordinators before Orleans
    /// stops (<see cref="SiloDrain"/>); a worker hands its task back within one slice, so the default leaves room.
    /// </summary>
    public TimeSpan HandBackTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Test-only faults (refused outside a test run, see <see cref="Grains.TestFaults"/>); none by default.</summary>
    public TestFaults TestFaults { get; set; } = new();

    /// <summary>
    /// Absolute paths of the folders whose regular files jobs may read (model, architecture, data, labels), checked by
    /// <see cref="Fisher.Data.DataRoots"/> when a job starts and again when a worker opens them. Default: none, so a
    /// silo reads no user files until its operator names them; the embedded CLI uses <c>/</c> (the user's own process).
    /// </summary>
#pragma warning disable CA1819 // a configuration-bound array (Fisher:Grains:DataRoots:0, ...)
    public string[] DataRoots { get; set; } = [];
#pragma warning restore CA1819

    /// <summary>
    /// Bytes a task (and an aggregator) of a job may need by the planner's estimate (<see cref="MemoryEstimate"/>); a job
    /// over it is refused at start with the estimate and its largest contributor. Default 2 GiB: every test and the
    /// full Fashion-MNIST job fit with room; a user's batch size, draws or architecture cannot size a silo beyond it.
    /// </summary>
    public long MemoryBudget { get; set; } = DefaultMemoryBudget;

    /// <summary>The default <see cref="MemoryBudget"/>: 2 GiB.</summary>
    public const long DefaultMemoryBudget = 2L << 30;

    /// <summary>
    /// Multiply-adds per input a layer-graph job may need by the estimator's own estimate
    /// (<c>LayerGraph.EstimateCost</c>: exact per-sample Î2 through convolutions costs far more than the other
    /// quantities); a job over it is refused at start with the estimate and the layer that drives it. MLPs are not
    /// weighed (their cost is a few passes). Default 2e9: a LeNet-style tanh CNN with every quantity fits.
    /// </summary>
    public double CostBudget { get; set; } = DefaultCostBudget;

    /// <summary>The default <see cref="CostBudget"/>: 2e9 multiply-adds per input.</summary>
    public const double DefaultCostBudget = 2e9;
}
