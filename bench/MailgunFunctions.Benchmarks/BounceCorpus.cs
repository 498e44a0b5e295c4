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
            .Select(l =>
            {
                var data = JObject.Parse(l);
                // The annotations are the test's, not Mailgun's; id, time and recipient are what every real event has.
                data.Remove("name");
                data.Remove("expect");
                data.Remove("rule");
                data["id"] = "corpus-event";
                data["timestamp"] = 1767225600.25;
                data["recipient"] ??= "someone@example.org";
                return MailgunEventParser.Parse(data);
            })
            .ToArray();
    }
}
