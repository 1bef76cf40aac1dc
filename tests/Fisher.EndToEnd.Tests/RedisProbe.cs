using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Fisher.EndToEnd.Tests;

/// <summary>
/// A minimal Redis client (RESP over one TCP connection) for the few commands the tests need: reading the Orleans
/// membership hash and deleting the keys of the tests' own jobs. Never flushes anything.
/// </summary>
public sealed class RedisProbe : IDisposable
{
    public const string Host = "127.0.0.1";
    public const int Port = 6379;

    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly BufferedStream _reader;

    public RedisProbe(int database)
    {
        _client = new TcpClient();
        try
        {
            _client.Connect(Host, Port);
        }
        catch (SocketException e)
        {
            _client.Dispose();
            throw new InvalidOperationException($"the end-to-end tests need a Redis server at {Host}:{Port} (CI starts one; locally: redis-server --port 6379 --bind 127.0.0.1 --daemonize yes)", e);
        }
        _stream = _client.GetStream();
        _reader = new BufferedStream(_stream);
        Command("SELECT", database.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Sends one command; returns a string, a long, null or a list of those.</summary>
    public object? Command(params string[] args)
    {
        var request = new StringBuilder();
        request.Append('*').Append(args.Length).Append("\r\n");
        foreach (var a in args)
            request.Append('$').Append(Encoding.UTF8.GetByteCount(a)).Append("\r\n").Append(a).Append("\r\n");
        var bytes = Encoding.UTF8.GetBytes(request.ToString());
        _stream.Write(bytes);
        return ReadReply();
    }

    public IReadOnlyDictionary<string, string> HashGetAll(string key)
    {
        var items = (List<object?>)Command("HGETALL", key)!;
        var result = new Dictionary<string, string>();
        for (int i = 0; i + 1 < items.Count; i += 2)
            result[(string)items[i]!] = (string)items[i + 1]!;
        return result;
    }

    /// <summary>Every key matching a glob pattern (SCAN, not KEYS).</summary>
    public IReadOnlyList<string> Keys(string pattern)
    {
        var keys = new List<string>();
        string cursor = "0";
        do
        {
            var reply = (List<object?>)Command("SCAN", cursor, "MATCH", pattern, "COUNT", "1000")!;
            cursor = (string)reply[0]!;
            keys.AddRange(((List<object?>)reply[1]!).Cast<string>());
        }
        while (cursor != "0");
        return keys;
    }

    private object? ReadReply()
    {
        int kind = _reader.ReadByte();
        var line = ReadLine();
        switch (kind)
        {
            case '+':
                return line;
            case '-':
                throw new InvalidOperationException($"Redis: {line}");
            case ':':
                return long.Parse(line, CultureInfo.InvariantCulture);
            case '$':
            {
                int length = int.Parse(line, CultureInfo.InvariantCulture);
                if (length < 0)
                    return null;
                var data = new byte[length + 2];
                _reader.ReadExactly(data);
                return Encoding.UTF8.GetString(data, 0, length);
            }
            case '*':
            {
                int count = int.Parse(line, CultureInfo.InvariantCulture);
                if (count < 0)
                    return null;
                var items = new List<object?>(count);
                for (int i = 0; i < count; i++)
                    items.Add(ReadReply());
                return items;
            }
            default:
                throw new InvalidOperationException($"Redis: unexpected reply type '{(char)kind}'");
        }
    }

    private string ReadLine()
    {
        var bytes = new List<byte>();
        int b;
        while ((b = _reader.ReadByte()) != '\n')
        {
            if (b < 0)
                throw new EndOfStreamException("Redis closed the connection");
            if (b != '\r')
                bytes.Add((byte)b);
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    public void Dispose()
    {
        _reader.Dispose();
        _client.Dispose();
    }
}
