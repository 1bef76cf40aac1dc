using Fisher.Contracts;
using Fisher.Estimators;
using Fisher.Results;

namespace Fisher.Grains;

/// <summary>Reads a finished job's merged moments from its aggregators, in slices well under the message cap.</summary>
public static class JobResults
{
    /// <summary>Every group's merged moments, in group order; <paramref name="token"/> is the job's access token.</summary>
    public static async Task<IReadOnlyList<GroupMoments>> Fetch(IGrainFactory grains, JobStatus status, string token, int sliceElements = 262_144, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ArgumentNullException.ThrowIfNull(status);
        var result = new List<GroupMoments>();
        for (int g = 0; g < status.Groups.Count; g++)
        {
            var aggregator = grains.GetGrain<IMomentsAggregatorGrain>(PartialShipper.AggregatorKey(status.JobId, g));
            var info = await aggregator.GetInfoAsync(token, cancellation);
            var streams = new Dictionary<string, Moments>(StringComparer.Ordinal);
            foreach (var stream in info.Streams)
            {
                var mean = new double[stream.Length];
                var m2 = new double[stream.Length];
                for (int offset = 0; offset < stream.Length; offset += sliceElements)
                {
                    cancellation.ThrowIfCancellationRequested();
                    var slice = await aggregator.ReadAsync(token, stream.Key, offset, Math.Min(sliceElements, stream.Length - offset), cancellation);
                    slice.Mean.CopyTo(mean, offset);
                    slice.M2.CopyTo(m2, offset);
                }
                streams[stream.Key] = new Moments(stream.Count, mean, m2);
            }
            result.Add(new GroupMoments(status.Groups[g], info.Inputs, info.MergedTasks, streams));
        }
        return result;
    }
}
