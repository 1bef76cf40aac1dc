using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace Fisher.EndToEnd.Tests;

/// <summary>What a finished process printed.</summary>
public sealed record ProcessResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The command, exit code and the last lines of stdout and stderr, for assertion messages.</summary>
    public string Describe(int lines = 40) =>
        $"$ {Command}\nexit code {ExitCode}\n--- stdout (tail) ---\n{TestProcess.Tail(Stdout, lines)}\n--- stderr (tail) ---\n{TestProcess.Tail(Stderr, lines)}";
}

/// <summary>
/// A child process with captured stdout/stderr that is always killed on <see cref="Dispose"/>; plus the paths of the
/// built programs under test and free loopback ports.
/// </summary>
public sealed class TestProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private TestProcess(Process process, string command)
    {
        _process = process;
        Command = command;
    }

    public string Command { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Stdout
    {
        get { lock (_stdout) return _stdout.ToString(); }
    }

    public string Stderr
    {
        get { lock (_stderr) return _stderr.ToString(); }
    }

    /// <summary>The build configuration of this test assembly (the programs under test are built alike).</summary>
    public static string Configuration { get; } =
        typeof(TestProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "Configuration").Value!;

    /// <summary>The repository root: the folder above this assembly that holds Fisher.Distributed.sln.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string SiloPath => Built("Fisher.Silo", "Fisher.Silo");

    /// <summary>
    /// The data roots of every test silo process: the bundled samples and the temporary folder the tests write their
    /// files to (a silo without roots reads no job files).
    /// </summary>
    public static string[] DataRootArguments =>
        [$"--Fisher:Grains:DataRoots:0={Path.Combine(RepoRoot, "samples")}", $"--Fisher:Grains:DataRoots:1={Path.GetTempPath()}"];

    public static string FisherPath => Built("Fisher.Client", "fisher");

    /// <summary>Debian's python with python3-torch (the first python3 on PATH may be another one).</summary>
    public const string Python = "/usr/bin/python3";

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Fisher.Distributed.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"no Fisher.Distributed.sln above {AppContext.BaseDirectory}");
    }

    private static string Built(string project, string apphost)
    {
        var path = Path.Combine(RepoRoot, "src", project, "bin", Configuration, "net10.0", apphost);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} is missing: build the test project (it builds {project}) with -c {Configuration}", path);
        return path;
    }

    /// <summary>Distinct free loopback ports (all listeners are held until every port is chosen).</summary>
    public static int[] FreePorts(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }
            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners)
                listener.Stop();
        }
    }

    /// <summary>
    /// The <c>XDG_CONFIG_HOME</c> of every process the tests start: a folder of this test run, so the job tokens the CLI
    /// saves never land in the user's own configuration.
    /// </summary>
    public static string ConfigHome { get; } = Directory.CreateTempSubdirectory("fisher-e2e-config-").FullName;

    /// <summary>Starts a program; <paramref name="environment"/> sets (or, with null, removes) variables over the defaults.</summary>
    public static TestProcess Start(string file, IEnumerable<string> args, string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory ?? RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
            info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        // A loaded 2-core machine can take 10 s to connect a client: the CLI's default 15 s is scaled up here
        // (a test of the timeout itself passes --connect-timeout).
        info.Environment["FISHER_CONNECT_TIMEOUT"] = TestTimeouts.Of(TimeSpan.FromSeconds(60)).TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["XDG_CONFIG_HOME"] = ConfigHome;
        info.Environment.Remove("FISHER_JOB_TOKEN");
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
                info.Environment.Remove(name);
            else
                info.Environment[name] = value;
        }
        var command = string.Join(' ', new[] { file }.Concat(info.ArgumentList.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a)));
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var result = new TestProcess(process, command);
        process.OutputDataReceived += (_, e) => Append(result._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(result._stderr, e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    /// <summary>Runs a program to its end (killed after <paramref name="timeout"/>, which fails the test).</summary>
    public static async Task<ProcessResult> Run(string file, IEnumerable<string> args, TimeSpan timeout, string? workingDirectory = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        using var process = Start(file, args, workingDirectory, environment);
        return await process.WaitForExit(timeout);
    }

    /// <summary>Runs the fisher CLI from the repository root (so the bundled sample is found).</summary>
    public static Task<ProcessResult> Fisher(params string[] args) => Run(FisherPath, args, TestTimeouts.Job);

    public async Task<ProcessResult> WaitForExit(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
            throw new TimeoutException($"{TestTimeouts.Exceeded(timeout, "the process to end")}; killed it:\n{Describe()}");
        }
        _process.WaitForExit(); // drains the redirected streams
        return new ProcessResult(Command, _process.ExitCode, Stdout, Stderr);
    }

    public string Describe(int lines = 40) =>
        $"$ {Command}\n{(_process.HasExited ? $"exit code {_process.ExitCode}" : "running")}\n--- stdout (tail) ---\n{Tail(Stdout, lines)}\n--- stderr (tail) ---\n{Tail(Stderr, lines)}";

    public static string Tail(string text, int lines)
    {
        var all = text.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    /// <summary>Asks the process to stop (SIGTERM: a silo leaves the cluster gracefully), then kills it after <paramref name="grace"/>.</summary>
    public void Terminate(TimeSpan grace)
    {
        try
        {
            if (_process.HasExited)
                return;
            if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
            {
                _ = SendSignal(_process.Id, 15);
                if (_process.WaitForExit(grace))
                    return;
            }
        }
        catch (InvalidOperationException)
        {
            return;
        }
        Kill();
    }

    /// <summary>Sends <paramref name="signal"/> (15: SIGTERM) to the process, as a kubelet stopping a pod does.</summary>
    public void Signal(int signal) => _ = SendSignal(_process.Id, signal);

    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private static void Append(StringBuilder target, string? line)
    {
        if (line is null)
            return;
        lock (target)
            target.Append(line).Append('\n');
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
