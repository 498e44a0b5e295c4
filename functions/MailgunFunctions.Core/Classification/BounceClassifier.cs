using System.ComponentModel.DataAnnotations;
using System.Globalization;
using MailgunFunctions.Events;

namespace MailgunFunctions.Classification;

/// <summary>
/// Decides what a Mailgun event means for the contact: category, DND effect, the rule that fired and why.
/// Pure and table-driven (no I/O, no clock), safe to share between threads.
/// <para>
/// Signals of a <c>failed</c> event, in order of trust (docs/classification.md, "Order of trust"):
/// (1) Mailgun's own codes and reasons (605/606/607 suppressions, carrier codes, 498/499/625);
/// (2) the cause the answer states, by groups: decisive markers (RESOLVER.*, the recipient's own block), a sender-side
/// cause (exact codes X.7.23-27, X.1.7/8..., then words), an expiry, the recipient's causes, the recipient's system
/// busy, a policy refusal in general terms; servers reuse codes across causes, so a stated cause outranks them;
/// (3) with no stated cause: the exact addressing codes (5.1.1, 5.2.2...), general words ("Recipient address
/// rejected", "denied", "try again"), the enhanced code's class and subject, then the basic RFC 5321 code;
/// (4) <c>reason</c> old/greylisted, <c>severity</c>, <c>bounce-type</c>, as a last resort.
/// Afterwards: a transient failure (4xx code or severity temporary: Mailgun retries) never gets a permanent DND
/// unless a platform rule says so, and a sender-side problem never gets any. The explanation names what decided and
/// every signal that pointed elsewhere (<see cref="Classification.Outranked"/>).
/// </para>
/// </summary>
public sealed partial class BounceClassifier : IEventClassifier
{
    private readonly ClassifierOptions _options;

    /// <summary>A classifier with the platform's defaults, or with <paramref name="options"/> (validated, then copied).</summary>
    /// <exception cref="ValidationException">An option is out of its documented range.</exception>
    public BounceClassifier(ClassifierOptions? options = null)
    {
        var given = options ?? new ClassifierOptions();
        Validator.ValidateObject(given, new ValidationContext(given), validateAllProperties: true);

        // A copy: the classifier is shared between threads and must not change under them.
        _options = new ClassifierOptions
        {
            MailboxFullIsPermanent = given.MailboxFullIsPermanent,
            CarrierUnknownNumberIsSoft = given.CarrierUnknownNumberIsSoft,
            GaveUpAfterRetriesIsPermanent = given.GaveUpAfterRetriesIsPermanent,
            MaxScannedCharacters = given.MaxScannedCharacters,
        };
    }

    /// <summary>Classifies an event of the pipeline, through the same rules as <see cref="Classify(in ClassificationInput)"/>.</summary>
    public Classification Classify(MailgunEvent e) => Classify(ClassificationInput.From(e));

    /// <summary>Classifies loose signals (the CLI's flags, or an event turned into them).</summary>
    public Classification Classify(in ClassificationInput input)
    {
        string? type = input.EventType;
        if (string.IsNullOrWhiteSpace(type) || Is(type, "failed"))
        {
            return ClassifyFailure(input);
        }

        if (Is(type, "complained"))
        {
            return Decide(BounceCategory.Complaint, "event-complained", ClassificationSignal.EventType,
                "The contact marked a message as spam (feedback loop): locked, only an audited override may undo it.");
        }

        if (Is(type, "unsubscribed"))
        {
            return Decide(BounceCategory.Unsubscribe, "event-unsubscribed", ClassificationSignal.EventType,
                "The contact unsubscribed through Mailgun's unsubscribe link.");
        }

        if (Is(type, "rejected"))
        {
            return ClassifyRejection(input);
        }

        return Decide(BounceCategory.NoEffect, "event-no-effect", ClassificationSignal.EventType,
            "This event type (accepted, delivered, opened, clicked, stored, list events...) says nothing against the contact.");
    }

    private Classification ClassifyRejection(in ClassificationInput input)
    {
        // Mailgun refused the message before trying: nearly always our side (limits, sandbox, bad request),
        // unless it says the recipient address itself is unusable.
        var words = ScanWords(input).Best;
        var category = words.Meaning switch
        {
            _ when Is(input.Reason, "suppress-bounce") => BounceCategory.HardBounce,
            _ when Is(input.Reason, "suppress-unsubscribe") => BounceCategory.Unsubscribe,
            _ when Is(input.Reason, "suppress-complaint") => BounceCategory.Complaint,
            _ when !words.Found => BounceCategory.SenderIssue,
            WordMeaning.PreviouslyBounced or WordMeaning.UserUnknown or WordMeaning.DomainUnknown or WordMeaning.AccountDisabled => BounceCategory.HardBounce,
            WordMeaning.Unsubscribed => BounceCategory.Unsubscribe,
            WordMeaning.Complained => BounceCategory.Complaint,
            _ => BounceCategory.SenderIssue,
        };
        return category == BounceCategory.SenderIssue
            ? Decide(category, "rejected-sender", ClassificationSignal.EventType,
                "Mailgun rejected the message before sending it (our request, limits or domain), not the contact's fault.", words: words.Text)
            : Decide(category, "rejected-recipient", words.Found ? ClassificationSignal.Words : ClassificationSignal.Reason,
                $"Mailgun rejected the message because of the recipient address ({(words.Found ? $"words \"{words.Text}\"" : $"reason {input.Reason}")}).",
                words: words.Text);
    }

    private Classification ClassifyFailure(in ClassificationInput input)
    {
        var f = new Facts(input, _options.MaxScannedCharacters);
        var verdict = Suppression(f) ?? MailgunOrCarrierCode(f);
        if (verdict is null)
        {
            f.Words = ScanWords(input);
            verdict = StatedCause(f) ?? FromCodes(f) ?? LastResort(f);
        }

        // When Mailgun gave up after its retry window, a transient last answer is the normal case, and the decisive
        // fact is that it gave up: the switch for that applies, whatever the last answer's rule.
        if (f.GaveUpAfterRetries && verdict.Value is { Category: BounceCategory.SoftBounce } soft
            && soft.Signal is not (ClassificationSignal.MailgunCode or ClassificationSignal.CarrierCode) && soft.Rule != GaveUpRule
            && soft.Words is not { Found: true, Meaning: WordMeaning.Expired })
        {
            verdict = GaveUp(f, GaveUpRule, ClassificationSignal.Reason,
                "Mailgun gave up after its retry window (reason old), and the last answer was transient (rule {0})", arg: soft.Rule);
        }

        return Finish(verdict.Value, f);
    }

    // (5) What Mailgun itself concluded, when the server's answer said nothing usable.
    private Verdict LastResort(in Facts f)
    {
        if (f.GaveUpAfterRetries)
        {
            return GaveUp(f, GaveUpRule, f.Code is 602 or 616 ? ClassificationSignal.MailgunCode : ClassificationSignal.Reason,
                "Mailgun gave up after its retry window (reason old, code 602/616) without a permanent answer from the server");
        }

        if (f.ReasonIs("greylisted"))
        {
            return Certain(BounceCategory.SoftBounce, "reason-greylisted", ClassificationSignal.Reason,
                "Mailgun's reason greylisted: the server asks to come back later by design.");
        }

        if (f.SeverityIs("permanent"))
        {
            return Ambiguous(BounceCategory.HardBounce, "severity-permanent", ClassificationSignal.Severity,
                "Severity permanent with no usable code or words: Mailgun will not retry (platform rule: permanent bounce, permanent DND).");
        }

        if (f.SeverityIs("temporary"))
        {
            return Certain(BounceCategory.SoftBounce, "severity-temporary", ClassificationSignal.Severity,
                "Severity temporary with no usable code or words: Mailgun retries.");
        }

        if (f.BounceTypeIs("hard"))
        {
            return Ambiguous(BounceCategory.HardBounce, "bounce-type-hard", ClassificationSignal.BounceType,
                "Only Mailgun's bounce-type hard tells anything about this failure.");
        }

        if (f.BounceTypeIs("soft"))
        {
            return Certain(BounceCategory.SoftBounce, "bounce-type-soft", ClassificationSignal.BounceType,
                "Only Mailgun's bounce-type soft tells anything about this failure.");
        }

        return Certain(BounceCategory.NoEffect, "no-signal", ClassificationSignal.None,
            "The failure carries no code, words, reason or severity to act on.");
    }

    private const string GaveUpRule = "mailgun-old-gave-up";

    /// <summary>
    /// Retries exhausted: every answer was transient, so by default the mailbox may well be fine. <paramref name="heard"/>
    /// is an explanation format (see <see cref="Verdict"/>); the switch's part follows it.
    /// </summary>
    private Verdict GaveUp(in Facts f, string rule, ClassificationSignal signal, string heard, WordsMatch words = default, string? arg = null) =>
        _options.GaveUpAfterRetriesIsPermanent
            ? Platform(BounceCategory.HardBounce, rule, signal, heard, words, arg)
                with { Tail = " (platform rule: a permanent failure is a permanent DND; Classifier:GaveUpAfterRetriesIsPermanent=true)." }
            : Certain(BounceCategory.SoftBounce, rule, signal, heard, words, arg)
                with { Tail = ": the mailbox may be fine, so only a temporary DND (Classifier:GaveUpAfterRetriesIsPermanent=false)." };

    /// <summary>Mailbox full: a platform rule (hard bounce) against RFC 3463, switchable; a 4xx over-quota is always soft.</summary>
    private Verdict MailboxFull(in Facts f, string rule, ClassificationSignal signal, string heard, WordsMatch words = default, string? arg = null)
    {
        if (f.TransientCode)
        {
            return Certain(BounceCategory.SoftBounce, rule, signal, heard, words, arg) with { Tail = ", and the server called it transient (4xx); Mailgun retries." };
        }

        if (!f.HasServerCode && f.SeverityIs("temporary"))
        {
            return Certain(BounceCategory.SoftBounce, rule, signal, heard, words, arg) with { Tail = ", without a server code and with severity temporary; Mailgun retries." };
        }

        return _options.MailboxFullIsPermanent
            ? Platform(BounceCategory.HardBounce, rule, signal, heard, words, arg)
                with { Tail = " (platform rule: a full mailbox is a hard bounce although RFC 3463 calls it transient; Classifier:MailboxFullIsPermanent=true)." }
            : Certain(BounceCategory.SoftBounce, rule, signal, heard, words, arg)
                with { Tail = "; transient by RFC 3463 (Classifier:MailboxFullIsPermanent=false)." };
    }

    private static Classification Decide(BounceCategory category, string rule, ClassificationSignal signal, string explanation, string? words = null) =>
        new(category, rule, explanation) { Signal = signal, Words = words };

    private static bool Is(string? value, string expected) =>
        value is not null && value.AsSpan().Trim().Equals(expected, StringComparison.OrdinalIgnoreCase);

    private static Verdict Certain(BounceCategory c, string rule, ClassificationSignal s, string explanation, WordsMatch words = default, string? arg = null) => new(c, rule, s, explanation, false, false, words, arg);

    private static Verdict Ambiguous(BounceCategory c, string rule, ClassificationSignal s, string explanation, WordsMatch words = default, string? arg = null) => new(c, rule, s, explanation, true, false, words, arg);

    private static Verdict Platform(BounceCategory c, string rule, ClassificationSignal s, string explanation, WordsMatch words = default, string? arg = null) => new(c, rule, s, explanation, false, true, words, arg);

    /// <summary>
    /// A rule's answer before the final checks. <see cref="Ambiguous"/>: the signal is known to be used for
    /// policy blocks too (550, X.7.x, severity), so espblock may overturn it. <see cref="PlatformRule"/>: a documented
    /// platform rule that holds even for a transient failure. <see cref="Explanation"/> is a format: {0} stands for
    /// <see cref="Arg"/> (the code), {1} for the <see cref="Words"/> as written; <see cref="Tail"/> follows it. The text
    /// is written only when someone reads the classification's explanation: a rule read only to decide, or to say what it
    /// lost to, costs no string.
    /// </summary>
    private readonly record struct Verdict(BounceCategory Category, string Rule, ClassificationSignal Signal, string Explanation, bool Ambiguous, bool PlatformRule, WordsMatch Words, string? Arg = null)
    {
        public string? Tail { get; init; }

        public string Explained
        {
            get
            {
                // Formats have no brace but their placeholders: a text without one is written as it is.
                string text = Explanation.Contains('{', StringComparison.Ordinal)
                    ? string.Format(CultureInfo.InvariantCulture, Explanation, Arg, Words.Text)
                    : Explanation;
                return Tail is null ? text : text + Tail;
            }
        }
    }
}
