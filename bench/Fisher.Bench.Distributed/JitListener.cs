using System.Diagnostics.Tracing;

namespace Fisher.Bench.Distributed;

/// <summary>
/// For --trace: counts the methods the runtime compiles while <see cref="Enabled"/> (runtime JIT events), by
/// declaring type, to see how much of a timed run the tiered JIT still takes.
/// </summary>
internal sealed class JitListener : EventListener
{
    private const EventKeywords JitKeyword = (EventKeywords)0x10;

    public Dictionary<string, int> Counts { get; } = [];

    public bool Enabled { get; set; }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(eventSource, EventLevel.Verbose, JitKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!Enabled || eventData.EventName != "MethodLoadVerbose_V2" || eventData.Payload is null || eventData.PayloadNames is null)
            return;
        string type = eventData.Payload[eventData.PayloadNames.IndexOf("MethodNamespace")]?.ToString() ?? "?";
        int generic = type.IndexOf('[', StringComparison.Ordinal);
        if (generic > 0)
            type = type[..generic];
        lock (Counts)
            Counts[type] = Counts.GetValueOrDefault(type) + 1;
    }
}
