using System.CommandLine;
using Fisher.Data;
using Fisher.Results;
using Fisher.Results.Reports;

namespace Fisher.Client;

/// <summary><c>fisher report &lt;results&gt;</c>: re-renders report.md and plots from summary.json and fisher.safetensors.</summary>
internal static class ReportCommand
{
    internal static Command Create()
    {
        var command = new Command("report", "Render report.md and plots/*.png from a result folder (summary.json, fisher.safetensors).");
        var folder = new Argument<string>("results") { Description = "A result folder written by fisher estimate." };
        command.Arguments.Add(folder);
        command.SetAction(result => Run(result.GetValue(folder)!, Console.Out, Console.Error));
        return command;
    }

    /// <summary>Writes the report; a missing or broken input file is one line on <paramref name="error"/> naming it, exit code 2.</summary>
    internal static int Run(string folder, TextWriter output, TextWriter error)
    {
        try
        {
            if (!Directory.Exists(folder))
                throw new DirectoryNotFoundException($"{folder}: no such result folder");
            var report = ReportWriter.Write(folder);
            output.WriteLine($"{report.ReportPath}: {report.Plots.Count} plot{(report.Plots.Count == 1 ? "" : "s")} in {Path.Combine(folder, ReportWriter.PlotsFolder)}");
            foreach (var line in report.Skipped)
                output.WriteLine($"  not drawn: {line}");
            return 0;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or DataFormatException)
        {
            error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }
}
