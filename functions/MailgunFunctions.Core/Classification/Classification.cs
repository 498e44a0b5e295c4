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
/// <para>
/// The classifier writes <see cref="Explanation"/>, <see cref="Words"/> and <see cref="Outranked"/> only when one of them
/// is first read: the decision itself needs no text, and most events are classified for their category alone. The text
/// is the same whenever it is written (the classifier is pure), and is kept once written.
/// </para>
/// </summary>
public sealed record Classification(
    BounceCategory Category,
    string Rule,
    string Explanation)
{
    private readonly string? _explanation = Explanation;
    private readonly string? _words;
    private readonly string? _outranked;
    private readonly bool _wordsGiven;
    private readonly bool _outrankedGiven;
    private readonly DeferredExplanation? _deferred;

    /// <summary>A classification whose texts <paramref name="deferred"/> writes when first read.</summary>
    internal Classification(BounceCategory category, string rule, DeferredExplanation deferred)
        : this(category, rule, Explanation: null!)
    {
        _deferred = deferred;
    }

    /// <summary>Why, in words an operator reads: the rule's reason, and what it outranked.</summary>
    public string Explanation
    {
        get => _explanation ?? _deferred!.Text.Explanation;
        init => _explanation = value;
    }

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
    public string? Words
    {
        get => _wordsGiven || _deferred is null ? _words : _deferred.Text.Words;
        init
        {
            _words = value;
            _wordsGiven = true;
        }
    }

    /// <summary>
    /// The signals of the answer that pointed to another DND effect and lost to the rule that decided (the code read
    /// alone, words of another cause, the severity), as the explanation names them; null when none did.
    /// </summary>
    public string? Outranked
    {
        get => _outrankedGiven || _deferred is null ? _outranked : _deferred.Text.Outranked;
        init
        {
            _outranked = value;
            _outrankedGiven = true;
        }
    }

    /// <summary>Equal when every public value is: a deferred explanation equals the same text written at once.</summary>
    public bool Equals(Classification? other) =>
        other is not null && (ReferenceEquals(this, other)
            || Category == other.Category && Rule == other.Rule && Code == other.Code && EnhancedCode == other.EnhancedCode
            && Signal == other.Signal && Explanation == other.Explanation && Words == other.Words && Outranked == other.Outranked);

    public override int GetHashCode() => HashCode.Combine(Category, Rule, Code, EnhancedCode, Signal, Explanation, Words, Outranked);
}

/// <summary>The texts of a <see cref="Classification"/>, written on first read by the rules that decided it.</summary>
internal abstract class DeferredExplanation
{
    private ExplanationText? _text;

    /// <summary>The texts, written once (two threads reading at once may both write them: the same text, one kept).</summary>
    public ExplanationText Text => _text ??= Write();

    protected abstract ExplanationText Write();
}

internal sealed record ExplanationText(string Explanation, string? Words, string? Outranked);

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
