using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MailgunFunctions.Classification;
using MailgunFunctions.Testing;

namespace MailgunFunctions.Benchmarks;

/// <summary>
/// The classifier's ratio to the hot-path floor by this process's CPU time, floor and classifier measured in turn, nine
/// times: on a machine other builds keep busy, BenchmarkDotNet's wall-clock means move by half from one row to the next,
/// while CPU time counts only the time this process ran. A check between quiet runs, not a replacement for section 1.
/// </summary>
public static class ClassifierCpuRatio
{
    public static string Run()
    {
        byte[] body = WebhookSamples.FailedWebhook();
        byte[] key = Encoding.UTF8.GetBytes(TestSettings.SigningKey);
        var classifier = new BounceClassifier();
        var events = BounceCorpus.Load();
        long sink = 0;

        int Floor()
        {
            Span<byte> mac = stackalloc byte[32];
            HMACSHA256.HashData(key, body, mac);
            var reader = new Utf8JsonReader(body);
            int tokens = 0;
            while (reader.Read())
            {
                tokens++;
            }

            return tokens + mac[0];
        }

        static double CpuNs()
        {
            using var self = Process.GetCurrentProcess();
            return self.TotalProcessorTime.TotalNanoseconds;
        }

        // Warm up until the JIT has optimised both paths.
        var warmUp = Stopwatch.StartNew();
        while (warmUp.ElapsedMilliseconds < 3000)
        {
            foreach (var e in events)
            {
                sink += (int)classifier.Classify(e).Category;
            }

            for (int i = 0; i < 100; i++)
            {
                sink += Floor();
            }
        }

        const int floorCalls = 200_000;
        const int passes = 300;
        var ratios = new List<double>();
        var explained = new List<double>();
        for (int round = 0; round < 9; round++)
        {
            double t0 = CpuNs();
            for (int i = 0; i < floorCalls; i++)
            {
                sink += Floor();
            }

            double t1 = CpuNs();
            for (int p = 0; p < passes; p++)
            {
                foreach (var e in events)
                {
                    sink += (int)classifier.Classify(e).Category;
                }
            }

            double t2 = CpuNs();
            for (int p = 0; p < passes; p++)
            {
                foreach (var e in events)
                {
                    sink += classifier.Classify(e).Explanation.Length;
                }
            }

            double t3 = CpuNs();
            double floor = (t1 - t0) / floorCalls;
            ratios.Add((t2 - t1) / ((double)passes * events.Length) / floor);
            explained.Add((t3 - t2) / ((double)passes * events.Length) / floor);
        }

        ratios.Sort();
        explained.Sort();
        return $"Classifier by CPU time ({events.Length} events, 9 rounds, load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}): " +
            $"ratio to the floor median {ratios[4]:F2} (min {ratios[0]:F2}, max {ratios[8]:F2}); with the explanation read {explained[4]:F2}. (check {sink % 2})";
    }
}
