namespace Fisher.Bench;

/// <summary>Peak resident memory of this process (VmHWM), resettable on Linux through /proc/self/clear_refs.</summary>
internal static class PeakMemory
{
    public static void Reset()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (IOException)
        {
            // Not Linux or not permitted: the peak then covers the whole run so far.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public static double PeakMegabytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024;
        }
        catch (IOException)
        {
        }
        return Environment.WorkingSet / 1048576.0;
    }
}
