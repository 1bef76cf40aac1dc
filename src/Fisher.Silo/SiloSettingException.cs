namespace Fisher.Silo;

/// <summary>A silo setting that stops the start; the message is one line naming the setting and what was expected.</summary>
internal sealed class SiloSettingException(string message) : Exception(message);
