using System.Diagnostics;
using System.Text;
using MailgunFunctions.Classification;
using MailgunFunctions.Testing;

namespace MailgunFunctions.Benchmarks;

/// <summary>
/// Section 5 of RESULTS.md: the classifier's accuracy on the real-world corpus (the same numbers the accuracy test
/// asserts) and a quick timing spread per event (the BenchmarkDotNet row in section 1 is the authoritative mean).
/// </summary>
public static class ClassifierReport
{
    public static string Run()
    {
        var classifier = new BounceClassifier();
        var accuracy = ClassifierAccuracy.Measure(classifier, ClassifierAccuracy.Load(ClassifierAccuracy.DefaultPath()));
        var events = BounceCorpus.Load();

        // Warm up until the JIT has optimised the hot path (tiered compilation needs many calls and a little time),
        // then time each event many times: the spread shows which answers cost most.
        var warmUp = Stopwatch.StartNew();
        while (warmUp.ElapsedMilliseconds < 2000)
        {
            foreach (var e in events)
            {
                classifier.Classify(e);
            }
        }

        const int rounds = 2000;
        var perEvent = new double[events.Length];
        for (int i = 0; i < events.Length; i++)
        {
            var e = events[i];
            long start = Stopwatch.GetTimestamp();
            for (int r = 0; r < rounds; r++)
            {
                classifier.Classify(e);
            }

            perEvent[i] = Stopwatch.GetElapsedTime(start).TotalNanoseconds / rounds;
        }

        Array.Sort(perEvent);
        return new StringBuilder()
            .AppendLine("Accuracy on `tests/MailgunFunctions.Core.Tests/Classification/real-world-bounces.jsonl` (default options):")
            .AppendLine()
            .Append(accuracy.Report())
            .AppendLine()
            .AppendLine($"Time per event over both corpora ({events.Length} events, Stopwatch, {rounds} calls each): " +
                $"mean {perEvent.Average():F0} ns, median {perEvent[perEvent.Length / 2]:F0} ns, " +
                $"p99 {perEvent[(int)(perEvent.Length * 0.99)]:F0} ns, slowest {perEvent[^1]:F0} ns.")
            .ToString();
    }
}
