using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Fisher.Tests;

/// <summary>
/// A private redis-server (Debian's package redis-server) on 127.0.0.1: a free port unless one is given, no
/// persistence, a password when one is given (requirepass), in the foreground as a child of the test process; <see cref="Start"/> returns once PING answers,
/// <see cref="Dispose"/> (or the test process ending) kills it.
/// </summary>
public sealed class RedisServer : IDisposable
{
    public const string Host = "127.0.0.1";

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private RedisServer(Process process, int port, string? password)
    {
        _process = process;
        Port = port;
        Password = password;
    }

    public int Port { get; }

    /// <summary>The password clients must give (null: none).</summary>
    public string? Password { get; }

    /// <summary>The StackExchange.Redis connection string of this server (with its password).</summary>
    public string Connection => string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}{(Password is null ? "" : $",password={Password}")}");

    /// <summary>What redis-server printed (its log).</summary>
    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>
    /// Starts redis-server on <paramref name="port"/> (a free one when null), requiring <paramref name="password"/> when
    /// given, and waits until it answers PING.
    /// </summary>
    public static RedisServer Start(int? port = null, string? password = null)
    {
        var binary = Requirements.Program("redis-server", "redis-server");
        for (int attempt = 1; ; attempt++)
        {
            var server = Launch(binary, port ?? FreePort(), password);
            var problem = server.WaitForPing(TestTimeouts.Startup);
            if (problem is null)
                return server;
            server.Dispose();
            // Another process may have taken the free port between its choice and redis-server's bind.
            if (port is not null || attempt == 3 || !server.Output.Contains("Address already in use", StringComparison.Ordinal))
                throw new InvalidOperationException($"redis-server on {server.Connection}: {problem}\n{server.Output}");
        }
    }

    private static RedisServer Launch(string binary, int port, string? password)
    {
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--bind", Host, "--port", port.ToString(CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no", "--daemonize", "no" })
            info.ArgumentList.Add(a);
        if (password is not null)
        {
            info.ArgumentList.Add("--requirepass");
            info.ArgumentList.Add(password);
        }
        var process = new Process { StartInfo = info };
        var server = new RedisServer(process, port, password);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        AppDomain.CurrentDomain.ProcessExit += server.OnProcessExit;
        return server;
    }

    /// <summary>Null once the server answers PING; else why not (it exited, or it did not answer within <paramref name="timeout"/>).</summary>
    private string? WaitForPing(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        string last = "";
        while (true)
        {
            if (_process.HasExited)
                return $"redis-server exited with code {_process.ExitCode}";
            try
            {
                if (Ping())
                    return null;
                last = "no PONG";
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                last = e.Message;
            }
            if (clock.Elapsed > timeout)
                return TestTimeouts.Exceeded(timeout, $"PING to answer (last: {last})");
            Thread.Sleep(20);
        }
    }

    /// <summary>True when the server answers PING with PONG (or, with a password, asks for it: it is up).</summary>
    public bool Ping()
    {
        using var client = new TcpClient();
        client.ReceiveTimeout = client.SendTimeout = (int)TestTimeouts.Request.TotalMilliseconds;
        client.Connect(Host, Port);
        using var stream = client.GetStream();
        stream.Write("*1\r\n$4\r\nPING\r\n"u8);
        var reply = new byte[7];
        int read = 0;
        while (read < reply.Length)
        {
            int n = stream.Read(reply, read, reply.Length - read);
            if (n == 0)
                break;
            read += n;
        }
        var text = Encoding.ASCII.GetString(reply, 0, read);
        return text == "+PONG\r\n" || (Password is not null && text == "-NOAUTH");
    }

    /// <summary>A port no listener holds right now on 127.0.0.1.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.Append(line).Append('\n');
    }

    private void OnProcessExit(object? sender, EventArgs e) => Kill();

    private void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(TestTimeouts.Stop);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        Kill();
        _process.Dispose();
    }
}
