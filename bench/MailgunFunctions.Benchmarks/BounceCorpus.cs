using MailgunFunctions.Events;
using MailgunFunctions.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Benchmarks;

/// <summary>The classifier's test corpus (tests/.../Classification/bounce-corpus.jsonl) as parsed events.</summary>
public static class BounceCorpus
{
    public static MailgunEvent[] Load()
    {
        string path = Path.Combine(RepositoryRoot.Find(), "tests", "MailgunFunctions.Core.Tests", "Classification", "bounce-corpus.jsonl");
        return File.ReadLines(path)
            .Where(l => !string.IsNullOrWhiteSpace(l))
            .Select(l => BounceCorpusLine.ToEvent(JObject.Parse(l)))
            .ToArray();
    }
}
