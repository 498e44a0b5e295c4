using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;
using MailgunFunctions.Events;

namespace MailgunFunctions.Testing;

/// <summary>
/// A stand-in classifier with a handful of obvious rules, for tests of processing and storage (the real
/// BounceClassifier has its own tests): complained locks, unsubscribed and permanent failures are permanent,
/// temporary failures are soft, a failure mentioning "5.7.26" is a sender-side issue, everything else has no effect.
/// </summary>
public sealed class FakeEventClassifier : IEventClassifier
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public Classification.Classification Classify(MailgunEvent e)
    {
        Interlocked.Increment(ref _calls);
        string text = e.DeliveryStatus?.Message ?? "";
        return e.EventType switch
        {
            "complained" => new(BounceCategory.Complaint, "fake-complaint", "complaint"),
            "unsubscribed" => new(BounceCategory.Unsubscribe, "fake-unsubscribe", "unsubscribe"),
            "failed" when text.Contains("5.7.26", StringComparison.Ordinal) =>
                new(BounceCategory.SenderIssue, "fake-sender-auth", "DMARC") { Code = e.DeliveryStatus?.Code, EnhancedCode = "5.7.26" },
            "failed" when e.Severity == "temporary" =>
                new(BounceCategory.SoftBounce, "fake-soft", "soft") { Code = e.DeliveryStatus?.Code },
            "failed" => new(BounceCategory.HardBounce, "fake-hard", "hard") { Code = e.DeliveryStatus?.Code, EnhancedCode = "5.1.1" },
            _ => new(BounceCategory.NoEffect, "fake-no-effect", "nothing"),
        };
    }
}
