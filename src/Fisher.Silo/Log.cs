namespace Fisher.Silo;

/// <summary>The silo host's log events (source-generated).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Fisher.Silo: {Mode}, silo port {SiloPort}, gateway port {GatewayPort}")]
    public static partial void SiloStarting(ILogger logger, string mode, int siloPort, int gatewayPort);

    [LoggerMessage(2, LogLevel.Warning, "Fisher.Silo: Fisher:Tls:Disabled=true: silo and gateway ports accept anyone who reaches them, unencrypted (test clusters only; docs/security.md)")]
    public static partial void InsecureCluster(ILogger logger);
}
