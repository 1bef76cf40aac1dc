using System.CommandLine;
using Fisher.Client;
using Spectre.Console;

// Redirected output (scripts, CI logs) is not wrapped at Spectre's default 80 columns: one message, one line.
if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 4096;

Termination.Watch(); // SIGTERM leaves a followed cluster job running; Ctrl+C cancels it
var root = new RootCommand("fisher: diagonal Fisher information (Î1, Î2, exact, empirical) with the variance of every estimate, on one machine or an Orleans cluster.");
foreach (var command in new JobCommands().Create().Append(ReportCommand.Create()).Append(DevCertsCommand.Create()).Concat(TrainCommands.Create()))
    root.Subcommands.Add(command);
// Termination owns Ctrl+C and SIGTERM: its token is every command's cancellation.
return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, Termination.Token);
