using System.Net;

namespace Fisher.Silo.Tests;

/// <summary>One span as OTLP/HTTP protobuf carries it (the fields the tests need).</summary>
public sealed record OtlpSpan(string TraceId, string SpanId, string ParentSpanId, string Name);

/// <summary>
/// A minimal OTLP/HTTP receiver on a loopback port: accepts POST /v1/traces (protobuf) and decodes the spans' ids and
/// names with a small protobuf reader (ExportTraceServiceRequest 1 → ResourceSpans 2 → ScopeSpans 2 → Span).
/// </summary>
public sealed class OtlpReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly List<OtlpSpan> _spans = [];
    private readonly Task _loop;

    public OtlpReceiver(int port)
    {
        Port = port;
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(Loop);
    }

    public int Port { get; }

    public IReadOnlyList<OtlpSpan> Spans
    {
        get { lock (_spans) return _spans.ToArray(); }
    }

    private async Task Loop()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.Url?.AbsolutePath == "/v1/traces")
            {
                var spans = Decode(body.ToArray());
                lock (_spans)
                    _spans.AddRange(spans);
            }
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    public static List<OtlpSpan> Decode(ReadOnlySpan<byte> request)
    {
        var spans = new List<OtlpSpan>();
        foreach (var resourceSpans in Fields(request, 1))
        {
            foreach (var scopeSpans in Fields(resourceSpans.Span, 2))
            {
                foreach (var span in Fields(scopeSpans.Span, 2))
                {
                    string trace = "", id = "", parent = "", name = "";
                    foreach (var (field, value) in All(span.Span))
                    {
                        switch (field)
                        {
                            case 1: trace = Convert.ToHexString(value); break;
                            case 2: id = Convert.ToHexString(value); break;
                            case 4: parent = Convert.ToHexString(value); break;
                            case 5: name = System.Text.Encoding.UTF8.GetString(value); break;
                        }
                    }
                    spans.Add(new OtlpSpan(trace, id, parent, name));
                }
            }
        }
        return spans;
    }

    private static List<ReadOnlyMemory<byte>> Fields(ReadOnlySpan<byte> message, int wanted) =>
        All(message).Where(f => f.Field == wanted).Select(f => (ReadOnlyMemory<byte>)f.Value).ToList();

    /// <summary>The length-delimited fields of a message (varint and fixed fields are skipped).</summary>
    private static List<(int Field, byte[] Value)> All(ReadOnlySpan<byte> message)
    {
        var fields = new List<(int, byte[])>();
        int i = 0;
        while (i < message.Length)
        {
            ulong key = Varint(message, ref i);
            int field = (int)(key >> 3), type = (int)(key & 7);
            switch (type)
            {
                case 0: Varint(message, ref i); break;
                case 1: i += 8; break;
                case 5: i += 4; break;
                case 2:
                    int length = (int)Varint(message, ref i);
                    fields.Add((field, message.Slice(i, length).ToArray()));
                    i += length;
                    break;
                default: throw new InvalidDataException($"protobuf wire type {type}");
            }
        }
        return fields;
    }

    private static ulong Varint(ReadOnlySpan<byte> data, ref int i)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[i++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
                return value;
        }
    }

    public void Dispose()
    {
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }
    }
}
