namespace MailgunFunctions.Tests.Export;

/// <summary>
/// The peak of the live managed heap while some work runs: sampled every 250 ms with a forced full collection, so it
/// measures what is live, not garbage waiting for the next GC. Memory only, never time.
/// </summary>
internal static class LiveHeapPeak
{
    public static async Task<(T Result, long Baseline, long Peak)> MeasureAsync<T>(Func<Task<T>> work)
    {
        long baseline = GC.GetTotalMemory(forceFullCollection: true);
        long peak = baseline;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true));
                try
                {
                    await Task.Delay(250, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        });

        T result = await work();
        await stop.CancelAsync();
        await sampler;
        return (result, baseline, peak);
    }
}
