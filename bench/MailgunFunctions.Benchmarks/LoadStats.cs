namespace MailgunFunctions.Benchmarks;

/// <summary>Throughput, latency and CPU profile of one load run.</summary>
public sealed record LoadStats(int Requests, TimeSpan Elapsed, double[] LatenciesMs, int Failures, CpuUse Cpu)
{
    /// <summary>The profile's two table columns, in the order of <see cref="CpuCells"/>.</summary>
    public const string CpuHeaders = "CPU ms/event: bench process | CPU ms/event: Azurite";

    public double PerSecond => Requests / Elapsed.TotalSeconds;

    /// <summary>The run's CPU milliseconds per event in this process and in Azurite, as table cells under <see cref="CpuHeaders"/>.</summary>
    public string CpuCells => $"{Cpu.BenchProcess.TotalMilliseconds / Requests:F2} | {Cpu.Azurite.TotalMilliseconds / Requests:F2}";

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

    /// <summary>
    /// Runs <paramref name="count"/> operations with <paramref name="concurrency"/> workers, times each, and takes the CPU
    /// both processes used over the run (the profile is required so that no load run goes without one).
    /// </summary>
    public static async Task<LoadStats> RunAsync(int count, int concurrency, CpuProfile cpu, Func<int, Task<bool>> operation)
    {
        var latencies = new double[count];
        int next = -1, failures = 0;
        var cpuBefore = cpu.Read();
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
        var elapsed = clock.Elapsed;
        return new LoadStats(count, elapsed, latencies, failures, cpu.Read() - cpuBefore);
    }
}
