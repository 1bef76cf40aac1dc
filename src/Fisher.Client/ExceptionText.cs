namespace Fisher.Client;

/// <summary>How a command names the last error it met while retrying (connecting, following a job).</summary>
internal static class ExceptionText
{
    /// <summary>The exception's type and the first line of its message.</summary>
    public static string FirstLine(Exception e) => $"{e.GetType().Name}: {e.Message.Split('\n')[0].Trim()}";
}
