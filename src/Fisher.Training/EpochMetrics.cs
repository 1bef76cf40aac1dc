namespace Fisher.Training;

/// <summary>
/// One epoch's item of <c>perEpoch</c> in <c>training.json</c>; epoch 0 describes the initial weights. Losses and
/// accuracies are null when absent (no test set, no class labels) or not finite; seconds are rounded to milliseconds.
/// </summary>
public sealed record EpochMetrics(int Epoch, string Checkpoint, double? TrainLoss, double? TrainAccuracy, double? TestLoss, double? TestAccuracy, double Seconds);
