using MailgunFunctions.Dnd;

namespace MailgunFunctions.Classification;

/// <summary>What an event means for the contact. The CLI and JSON outputs use the kebab-case names.</summary>
public enum BounceCategory
{
    /// <summary>"no-effect": accepted, delivered, opened, clicked, stored... or nothing to act on.</summary>
    NoEffect,
    /// <summary>"hard-bounce": the address is invalid or permanently rejected us.</summary>
    HardBounce,
    /// <summary>"soft-bounce": transient; Mailgun retries by itself.</summary>
    SoftBounce,
    /// <summary>"blocked": the carrier or the recipient blocks delivery.</summary>
    Blocked,
    /// <summary>"sender-issue": our authentication, IP/domain reputation, rate or content: never the contact's fault.</summary>
    SenderIssue,
    /// <summary>"complaint": the contact marked us as spam.</summary>
    Complaint,
    /// <summary>"unsubscribe": the contact asked to stop.</summary>
    Unsubscribe,
}

/// <summary>The classifier's answer: category, DND effect, the rule that fired and why, in words an operator reads.</summary>
public sealed record Classification(
    BounceCategory Category,
    DndState Effect,
    string Rule,
    string Explanation)
{
    /// <summary>The SMTP or Mailgun code the decision used, when any.</summary>
    public int? Code { get; init; }

    /// <summary>The enhanced status code (RFC 3463) the decision used, when any.</summary>
    public string? EnhancedCode { get; init; }
}
