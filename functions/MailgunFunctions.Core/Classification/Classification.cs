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

/// <summary>
/// The classifier's answer: category, the rule that fired and why, in words an operator reads. What the category does to
/// the contact's DND is the DND state's rule (<c>DndEffects</c> in the Dnd folder, also read as <c>classification.Effect</c>).
/// </summary>
public sealed record Classification(
    BounceCategory Category,
    string Rule,
    string Explanation)
{
    /// <summary>The SMTP or Mailgun code the decision used, when any.</summary>
    public int? Code { get; init; }

    /// <summary>The enhanced status code (RFC 3463) the decision used, when any.</summary>
    public string? EnhancedCode { get; init; }

    /// <summary>Which signal of the event decided (see <see cref="BounceClassifier"/> for their order of trust).</summary>
    public ClassificationSignal Signal { get; init; }

    /// <summary>
    /// The most trusted words found in the server's answer, as written there, when the words were read: they are
    /// read only when no Mailgun code or specific enhanced code decided first. Set whenever <see cref="Signal"/> is words.
    /// </summary>
    public string? Words { get; init; }

    /// <summary>
    /// The signals of the answer that pointed to another DND effect and lost to the rule that decided (the code read
    /// alone, words of another cause, the severity), as the explanation names them; null when none did.
    /// </summary>
    public string? Outranked { get; init; }
}

/// <summary>The kind of evidence a <see cref="Classification"/> rests on, in the classifier's order of trust.</summary>
public enum ClassificationSignal
{
    /// <summary>"none": nothing in the event to act on.</summary>
    None,
    /// <summary>"event-type": complained, unsubscribed, delivered... decide by themselves.</summary>
    EventType,
    /// <summary>"mailgun-code": Mailgun's own delivery-status code (605, 606, 607, 498, 499, 602...).</summary>
    MailgunCode,
    /// <summary>"reason": Mailgun's <c>reason</c> (suppress-*, old, greylisted, espblock...).</summary>
    Reason,
    /// <summary>"carrier-code": a Twilio carrier error code (30003...30008).</summary>
    CarrierCode,
    /// <summary>"enhanced-code": an RFC 3463 enhanced status code.</summary>
    EnhancedCode,
    /// <summary>"smtp-code": the basic RFC 5321 reply code.</summary>
    SmtpCode,
    /// <summary>"words": the wording of the response.</summary>
    Words,
    /// <summary>"severity": Mailgun's <c>severity</c> (permanent/temporary), a last resort.</summary>
    Severity,
    /// <summary>"bounce-type": the undocumented <c>bounce-type</c> (hard/soft), a weak hint.</summary>
    BounceType,
}
