using System.CommandLine;

namespace Fisher.Client;

/// <summary><c>fisher report &lt;results&gt;</c>: re-renders report.md and plots from summary.json and fisher.safetensors.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var command = new Command("report", "Render report.md and plots/*.png from a result folder (summary.json, fisher.safetensors).");
        var folder = new Argument<string>("results") { Description = "A result folder written by fisher estimate." };
        command.Arguments.Add(folder);
        command.SetAction(_ =>
        {
            Console.Error.WriteLine("fisher report: not built yet");
            return 2;
        });
        return command;
    }
}
