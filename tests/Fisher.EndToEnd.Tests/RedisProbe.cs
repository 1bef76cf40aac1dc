using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Fisher.EndToEnd.Tests;

/// <summary>
/// A minimal Redis client (RESP over one TCP connection) for the few commands the tests need: reading the Orleans
/// membership hash of the fixture's own Redis.
/// </summary>
public sealed class RedisProbe : IDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly BufferedStream _reader;

    public RedisProbe(RedisServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        _client = new TcpClient();
        _client.ReceiveTimeout = _client.SendTimeout = (int)TestTimeouts.Request.TotalMilliseconds;
        try
        {
            _client.Connect(RedisServer.Host, server.Port);
        }
        catch (SocketException)
        {
            _client.Dispose();
            throw;
        }
        _stream = _client.GetStream();
        _reader = new BufferedStream(_stream);
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
