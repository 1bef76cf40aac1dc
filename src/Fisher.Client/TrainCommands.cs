using System.CommandLine;

namespace Fisher.Client;

/// <summary><c>fisher train</c> and <c>fisher sweep</c>: the paper's study of an MLP during training.</summary>
internal static class TrainCommands
{
    public static IEnumerable<Command> Create()
    {
        var train = new Command("train", "Train an MLP (architecture file, Adam) on an IDX/NPY dataset, saving a checkpoint per epoch.");
        train.SetAction(_ =>
        {
            Console.Error.WriteLine("fisher train: not built yet");
            return 2;
        });
        var sweep = new Command("sweep", "Estimate a list of checkpoints (one job each) and plot every group's quantities against the epoch.");
        sweep.SetAction(_ =>
        {
            Console.Error.WriteLine("fisher sweep: not built yet");
            return 2;
        });
        return [train, sweep];
    }
}
