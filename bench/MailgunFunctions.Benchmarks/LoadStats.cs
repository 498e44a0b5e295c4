namespace MailgunFunctions.Benchmarks;

/// <summary>Throughput and latency of one load run.</summary>
public sealed record LoadStats(int Requests, TimeSpan Elapsed, double[] LatenciesMs, int Failures)
{
    public double PerSecond => Requests / Elapsed.TotalSeconds;

    public double Percentile(double p)
    {
        if (LatenciesMs.Length == 0)
        {
            return double.NaN;
        }

        var sorted = LatenciesMs.Order().ToArray();
        int index = (int)Math.Ceiling(p / 100d * sorted.Length) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
    }

    /// <summary>Runs <paramref name="count"/> operations with <paramref name="concurrency"/> workers and times each.</summary>
    public static async Task<LoadStats> RunAsync(int count, int concurrency, Func<int, Task<bool>> operation)
    {
        var latencies = new double[count];
        int next = -1, failures = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var workers = Enumerable.Range(0, concurrency).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                long start = System.Diagnostics.Stopwatch.GetTimestamp();
                bool ok = await operation(i).ConfigureAwait(false);
                latencies[i] = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (!ok)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }).ToArray();
        await Task.WhenAll(workers).ConfigureAwait(false);
        return new LoadStats(count, clock.Elapsed, latencies, failures);
    }
}
