using System.Diagnostics;
using System.Globalization;
using System.Text;
using Fisher.Contracts;
using Fisher.Estimators;
using Fisher.Grains;
using Fisher.Grains.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Xunit.Abstractions;

namespace Fisher.EndToEnd.Tests;

/// <summary>
/// Two Fisher.Silo processes on Redis (<see cref="TwoSiloCluster"/>), an in-test Orleans client, and a private cache
/// folder for plain copies of gzip files (<c>FISHER_CACHE_DIR</c>, inherited by the silos). The crafted files' folder
/// and the sample are the silos' data roots (<c>Fisher:Grains:DataRoots</c>).
/// </summary>
public sealed class BadFileCluster : IAsyncLifetime
{
    private IHost? _client;
    private TlsCredentials? _credentials;

    public BadFileCluster()
    {
        // The crafted files' folder, the sample and the python3-torch fixtures are the silos' data roots (in place of the
        // tests' usual ones).
        Silos = new SiloCluster(2, $"--Fisher:Grains:DataRoots:0={Files.FullName}", $"--Fisher:Grains:DataRoots:1={BadFiles.Sample("")}",
            $"--Fisher:Grains:DataRoots:2={Path.Combine(TestProcess.RepoRoot, "tests", "Fisher.EndToEnd.Tests", "Fixtures")}");
    }

    public SiloCluster Silos { get; }

    public DirectoryInfo Files { get; } = Directory.CreateTempSubdirectory("fisher-bad-files-");

    public string Cache => Path.Combine(Files.FullName, "cache");

    public IClusterClient Client => _client!.Services.GetRequiredService<IClusterClient>();

    public async Task InitializeAsync()
    {
        // The silos inherit the variable when they start; it is put back at once for the rest of this test process.
        var previous = Environment.GetEnvironmentVariable("FISHER_CACHE_DIR");
        Environment.SetEnvironmentVariable("FISHER_CACHE_DIR", Cache);
        try
        {
            await Silos.InitializeAsync();
        }
        finally
        {
            Environment.SetEnvironmentVariable("FISHER_CACHE_DIR", previous);
        }
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        var certificates = TestCertificates.Cluster;
        _credentials = TlsCredentials.Load(new TlsFiles(Path.Combine(certificates, "client.crt"), Path.Combine(certificates, "client.key"), Path.Combine(certificates, "ca.crt")));
        builder.UseOrleansClient(client => client.UseFisherRedis(Silos.Connection).UseFisherTls(_credentials));
        _client = builder.Build();
        await _client.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.StopAsync();
            _client.Dispose();
        }
        _credentials?.Dispose();
        await Silos.DisposeAsync();
        try
        {
            Files.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// Issue 13, acceptance 2: crafted bad files for every reader, each submitted as a job to two silo processes. Each job
/// must fail within <see cref="CaseSeconds"/> with one line naming the file and the problem; afterwards both silos are
/// alive, their peak resident memory (VmHWM) stays within <see cref="PeakMarginBytes"/> of the larger silo's peak after a
/// good job (measured first: about 370 MiB here), and a good job
/// on the same silos succeeds. The results table is printed and written to bad-file-report.txt in the test output.
/// </summary>
public sealed class BadFileTests(BadFileCluster fixture, ITestOutputHelper output) : IClassFixture<BadFileCluster>
{
    /// <summary>How long one bad job may take to fail (it fails while planning, before any task runs).</summary>
    private const double CaseSeconds = 10;

    /// <summary>
    /// How far above a good job's peak RSS a silo may go while failing every bad job: 256 MiB. The bombs alone would
    /// take 6 GB (gzip), 2 GB (zip entry) or 8 TB (expanded tensor).
    /// </summary>
    private const long PeakMarginBytes = 256L << 20;

    private static JobSpec Spec() => new()
    {
        ModelPath = BadFiles.Sample("model.pt"),
        ArchitecturePath = BadFiles.Sample("model.json"),
        InputsPath = BadFiles.Sample("t10k-2000-images-idx3-ubyte.gz"),
        LabelsPath = BadFiles.Sample("t10k-2000-labels-idx1-ubyte.gz"),
        Quantities = FisherQuantityNames.Parse("exact,empirical"),
        DrawsPerInput = 1,
        Inputs = 400,
        Shards = 2,
        Grouping = SpecNames.Groupings.Parse("layer"),
        BatchSize = 100,
        Seed = 7,
        Precision = SpecNames.DTypes.Parse("float32"),
    };

    private static JobSpec With(JobSpec spec, FileRole role, string path) => role switch
    {
        FileRole.Architecture => spec with { ArchitecturePath = path },
        FileRole.Model => spec with { ModelPath = path },
        FileRole.Inputs => spec with { InputsPath = path },
        _ => spec with { LabelsPath = path },
    };

    /// <summary>Runs a job to its end; a job refused when submitted (an exception from SubmitAsync) counts as Failed with that message.</summary>
    private async Task<(JobState State, string Error, double Seconds)> Run(string name, JobSpec spec, TimeSpan timeout)
    {
        var id = $"{fixture.Silos.JobPrefix}-{new string(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray())}";
        var clock = Stopwatch.StartNew();
        var job = fixture.Client.GetGrain<IFisherJobGrain>(id);
        JobStatus status;
        string token;
        try
        {
            var ticket = await job.SubmitAsync(spec);
            (status, token) = (ticket.Status, ticket.Token!);
        }
        catch (Exception e) when (e is not (TimeoutException or OrleansException))
        {
            return (JobState.Failed, e.Message, clock.Elapsed.TotalSeconds);
        }
        while (!status.IsFinished && clock.Elapsed < timeout)
        {
            await Task.Delay(100);
            status = await job.GetStatusAsync(token);
        }
        return (status.State, status.Error ?? "", clock.Elapsed.TotalSeconds);
    }

    /// <summary>Peak resident set size of each silo process (VmHWM in /proc/pid/status), in bytes.</summary>
    private long[] PeakResidentBytes() => fixture.Silos.Silos.Select(s =>
    {
        var line = File.ReadAllLines($"/proc/{s.Process.Id}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }).ToArray();

    [Fact]
    public async Task Every_bad_file_fails_its_job_in_seconds_with_one_line_and_the_silos_stay_small_and_serve_a_good_job()
    {
        var good = await Run("good-before", Spec(), TestTimeouts.Job);
        Assert.True(good.State == JobState.Completed, $"the good job did not complete: {good.Error}\n{fixture.Silos.Logs()}");
        var goodPeak = PeakResidentBytes();

        var cases = BadFiles.Make(fixture.Files.FullName);
        var rows = new List<string>();
        var problems = new List<string>();
        int run = 0;
        foreach (var c in cases)
        {
            var (state, error, seconds) = await Run(c.Name, With(Spec(), c.Role, c.Path), TimeSpan.FromSeconds(CaseSeconds * 3));
            run++;
            rows.Add(string.Create(CultureInfo.InvariantCulture, $"| {c.Name} | {c.Reader} | {error.Replace("|", "\\|", StringComparison.Ordinal).Replace(fixture.Files.FullName, "<dir>", StringComparison.Ordinal)} | {seconds:F2} |"));
            if (state != JobState.Failed)
                problems.Add($"{c.Name}: the job is {state}, expected Failed");
            else if (error.Contains('\n', StringComparison.Ordinal) || error.Contains('\r', StringComparison.Ordinal))
                problems.Add($"{c.Name}: the error has more than one line: {error}");
            else if (!error.Contains(c.Path, StringComparison.Ordinal) || !c.Expected(error))
                problems.Add($"{c.Name}: expected the error to name {c.Path} and say '{c.Expect}', got: {error}");
            if (seconds > CaseSeconds)
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{c.Name}: took {seconds:F1} s, more than {CaseSeconds} s"));
        }

        var peak = PeakResidentBytes();
        var after = await Run("good-after", Spec(), TestTimeouts.Job);
        var report = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"{run} bad files run as jobs on 2 silos ({cases.Count - run} skipped); peak RSS (VmHWM) per silo after a good job: {string.Join(", ", goodPeak.Select(b => $"{b >> 20} MiB"))}; after all bad jobs: {string.Join(", ", peak.Select(b => $"{b >> 20} MiB"))} (bound: the larger good peak + {PeakMarginBytes >> 20} MiB); good job afterwards: {after.State}")
            .AppendLine()
            .AppendLine("| case | reader | error (one line) | seconds |")
            .AppendLine("|---|---|---|---|");
        foreach (var r in rows)
            report.AppendLine(r);
        File.WriteAllText(Path.Combine(AppContext.BaseDirectory, "bad-file-report.txt"), report.ToString());
        output.WriteLine(report.ToString());

        long bound = goodPeak.Max() + PeakMarginBytes; // the silo that ran the good job's work, plus the margin
        for (int i = 0; i < peak.Length; i++)
        {
            if (peak[i] > bound)
                problems.Add($"silo {i}: peak RSS {peak[i] >> 20} MiB, more than the good job's {goodPeak.Max() >> 20} MiB + {PeakMarginBytes >> 20} MiB");
        }
        if (fixture.Silos.Silos.Any(s => s.Process.HasExited))
            problems.Add($"a silo exited:\n{fixture.Silos.Logs()}");
        if (after.State != JobState.Completed)
            problems.Add($"the good job after the bad ones: {after.State}: {after.Error}");
        Assert.True(run >= 40, $"only {run} bad files ran");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Empty(Directory.Exists(fixture.Cache) ? Directory.GetFiles(fixture.Cache, "*.tmp") : []); // no partial copy left
    }
}
