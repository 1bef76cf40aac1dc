using System.Runtime.InteropServices;
using Fisher.Contracts;
using Fisher.Data;

namespace Fisher.Grains.Tests;

/// <summary>
/// Silos read only regular files under their data roots (the test silos': the sample folder and the temporary folder):
/// every other file a job names fails the job at start, before any task, with one line naming the spec field and the
/// path and never the file's content; a worker checks again when it opens the files.
/// </summary>
[Collection("clusters")]
public sealed class DataConfinementTests(OneSiloCluster fixture) : IClassFixture<OneSiloCluster>, IDisposable
{
    private const string Secret = "SECRET-3d8a71";

    // Inside a root: the temporary folder. Outside every root: a folder beside the test binaries.
    private readonly string _inside = Directory.CreateTempSubdirectory("fisher-confinement-").FullName;
    private readonly string _outside = OutsideRoots.Create();

    public void Dispose()
    {
        Directory.Delete(_inside, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    /// <summary>A file outside every root that holds a recognisable secret (and would parse as nothing).</summary>
    private string SecretFile()
    {
        var path = Path.Combine(_outside, "passwd");
        File.WriteAllText(path, $"root:x:0:0:{Secret}:/root:/bin/bash\n");
        return path;
    }

    private async Task<JobStatus> Start(JobSpec spec) =>
        await fixture.Cluster.GrainFactory.GetGrain<IFisherJobGrain>("confine-" + Guid.NewGuid().ToString("N")[..8]).StartAsync(spec);

    private static JobSpec Small => TestData.Spec(inputs: 100, shards: 1, grouping: "all", quantities: "exact,empirical", draws: 1);

    public static TheoryData<string, string> Fields => new()
    {
        { nameof(JobSpec.ModelPath), "model path" },
        { nameof(JobSpec.ArchitecturePath), "architecture path" },
        { nameof(JobSpec.InputsPath), "inputs path" },
        { nameof(JobSpec.LabelsPath), "labels path" },
    };

    private static JobSpec With(string field, string path) => field switch
    {
        nameof(JobSpec.ModelPath) => Small with { ModelPath = path },
        nameof(JobSpec.ArchitecturePath) => Small with { ArchitecturePath = path },
        nameof(JobSpec.InputsPath) => Small with { InputsPath = path },
        _ => Small with { LabelsPath = path },
    };

    private async Task Refused(string field, string words, string path, string expected)
    {
        var status = await Start(With(field, path));
        Assert.Equal(JobState.Failed, status.State);
        Assert.Equal(0, status.TasksTotal);
        Assert.StartsWith($"{words}: {path}: ", status.Error, StringComparison.Ordinal);
        Assert.Contains(expected, status.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, status.Error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', status.Error!);
    }

    [Theory]
    [MemberData(nameof(Fields))]
    public async Task A_file_outside_the_roots_is_refused_at_start_without_its_content(string field, string words) =>
        await Refused(field, words, SecretFile(), "outside the data roots");

    [Theory]
    [MemberData(nameof(Fields))]
    public async Task A_dot_dot_escape_is_refused(string field, string words)
    {
        var secret = SecretFile();
        var escape = _inside + string.Concat(Enumerable.Repeat("/..", _inside.Count(c => c == '/'))) + secret;
        await Refused(field, words, escape, "outside the data roots");
    }

    [Theory]
    [MemberData(nameof(Fields))]
    public async Task A_symlink_inside_a_root_to_a_file_outside_is_refused(string field, string words)
    {
        var link = Path.Combine(_inside, "model.pt");
        File.CreateSymbolicLink(link, SecretFile());
        await Refused(field, words, link, "outside the data roots");
    }

    [Fact]
    public async Task A_fifo_a_device_a_folder_and_a_missing_file_are_refused_at_start()
    {
        var fifo = Path.Combine(_inside, "pipe.npy");
        Assert.Equal(0, mkfifo(fifo, 0x180)); // nobody writes to it: opening it would block a silo thread forever
        await Refused(nameof(JobSpec.InputsPath), "inputs path", fifo, "is a FIFO; expected a regular file");
        await Refused(nameof(JobSpec.ArchitecturePath), "architecture path", "/dev/zero", "outside the data roots");
        await Refused(nameof(JobSpec.LabelsPath), "labels path", _inside, "is a folder; expected a regular file");
        await Refused(nameof(JobSpec.ModelPath), "model path", Path.Combine(_inside, "missing.pt"), "no such file");
    }

    [Fact]
    public async Task Every_refused_file_is_named_in_one_line()
    {
        var status = await Start(Small with { ModelPath = SecretFile(), InputsPath = Path.Combine(_inside, "missing.gz") });
        Assert.Equal(JobState.Failed, status.State);
        Assert.Matches("^model path: .*outside the data roots.*; inputs path: .*no such file$", status.Error);
    }

    [Fact]
    public async Task A_symlink_inside_a_root_to_a_file_inside_is_followed_and_the_job_runs()
    {
        var link = Path.Combine(_inside, "images.gz");
        File.CreateSymbolicLink(link, TestData.Images);
        var status = await TestData.RunToEnd(fixture.Cluster.GrainFactory, "confine-link-" + Guid.NewGuid().ToString("N")[..8], Small with { InputsPath = link }, TestTimeouts.Job);
        Assert.True(status.State == JobState.Completed, status.Error);
    }

    /// <summary>
    /// On the cluster: the coordinator accepts the labels file, which is then replaced by a FIFO; the workers, which
    /// open it after (one task at a time), refuse it and the job fails with the worker's reason instead of hanging.
    /// </summary>
    [Fact]
    public async Task A_file_replaced_by_a_fifo_after_the_start_fails_the_job_from_the_worker()
    {
        var labels = Path.Combine(_inside, "labels.gz");
        File.Copy(TestData.Labels, labels);
        var spec = TestData.Spec(inputs: 400, shards: 2, grouping: "all", quantities: "exact,empirical", draws: 1) with { LabelsPath = labels, MaxConcurrentTasks = 1 };
        var job = fixture.Cluster.GrainFactory.GetGrain<IFisherJobGrain>("confine-swap-" + Guid.NewGuid().ToString("N")[..8]);
        var started = await job.StartAsync(spec);
        Assert.Equal(JobState.Running, started.State);
        File.Delete(labels);
        Assert.Equal(0, mkfifo(labels, 0x180));
        var deadline = DateTime.UtcNow + TestTimeouts.Job;
        var status = started;
        while (!status.IsFinished && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            status = await job.GetStatusAsync();
        }
        Assert.Equal(JobState.Failed, status.State);
        // Refused by the worker's data-root check, or (when the task had resolved its files before the swap) by the
        // reader's own regular-file check when it opens the labels: either way one line naming the file.
        Assert.Contains(labels, status.Error, StringComparison.Ordinal);
        Assert.Contains("expected a regular file", status.Error, StringComparison.Ordinal);
    }

    /// <summary>The worker's own check: a file the coordinator accepted that is a FIFO by the time the worker opens it.</summary>
    [Fact]
    public async Task A_worker_refuses_a_file_that_became_a_fifo_without_blocking()
    {
        var labels = Path.Combine(_inside, "labels.gz");
        Assert.Equal(0, mkfifo(labels, 0x180));
        var task = new TaskAssignment("job", "s0g0", 1, Small with { LabelsPath = labels }, 0, 100, 0, "all", ["0.weight"], LeaseKey: "test");
        var work = Task.Run(() => new ShardComputation(task, 1, new DataRoots(TestData.DataRoots, FisherHosting.DataRootsSetting)));
        var e = await Assert.ThrowsAsync<JobSpecException>(() => work.WaitAsync(TestTimeouts.Job));
        Assert.Equal($"labels path: {labels}: is a FIFO; expected a regular file", e.Message);
    }

    /// <summary>The worker's own check: its silo's roots exclude a file the coordinator's admitted.</summary>
    [Fact]
    public void A_worker_with_other_roots_refuses_the_file()
    {
        var task = new TaskAssignment("job", "s0g0", 1, Small, 0, 100, 0, "all", ["0.weight"], LeaseKey: "test");
        var e = Assert.Throws<JobSpecException>(() => new ShardComputation(task, 1, new DataRoots([_inside], FisherHosting.DataRootsSetting)));
        Assert.StartsWith($"model path: {TestData.Model}: outside the data roots ({_inside}, Fisher:Grains:DataRoots)", e.Message, StringComparison.Ordinal);
    }

    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);
}
