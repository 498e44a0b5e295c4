using MailgunFunctions.Events;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Testing;

/// <summary>One line of the classifier's corpus (tests/.../Classification/bounce-corpus.jsonl) as the event it describes.</summary>
public static class BounceCorpusLine
{
    public static MailgunEvent ToEvent(JObject line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var data = (JObject)line.DeepClone();
        // The annotations are the test's, not Mailgun's; id, time and recipient are what every real event has.
        data.Remove("name");
        data.Remove("expect");
        data.Remove("rule");
        data["id"] = "corpus-event";
        data["timestamp"] = 1767225600.25;
        data["recipient"] ??= "someone@example.org";
        return MailgunEventParser.Parse(data);
    }
}
