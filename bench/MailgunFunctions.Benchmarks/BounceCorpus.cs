using MailgunFunctions.Events;
using MailgunFunctions.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Benchmarks;

/// <summary>
/// The classifier's test corpora (tests/.../Classification/bounce-corpus.jsonl and real-world-bounces.jsonl) as parsed
/// events: every kind of event and answer the tests know, so the per-event mean covers words-heavy answers too.
/// </summary>
public static class BounceCorpus
{
    private static readonly string[] Files = ["bounce-corpus.jsonl", "real-world-bounces.jsonl"];

    public static MailgunEvent[] Load()
    {
        string folder = Path.Combine(RepositoryRoot.Find(), "tests", "MailgunFunctions.Core.Tests", "Classification");
        return Files
            .SelectMany(file => File.ReadLines(Path.Combine(folder, file)))
            .Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l => BounceCorpusLine.ToEvent(JObject.Parse(l)))
            .ToArray();
    }
}
