namespace Fisher.Silo;

/// <summary>The silo host's log events (source-generated).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Fisher.Silo: {Mode}, silo port {SiloPort}, gateway port {GatewayPort}")]
    public static partial void SiloStarting(ILogger logger, string mode, int siloPort, int gatewayPort);
}
