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
public sealed class BounceClassifier : IEventClassifier
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
            && soft.Words?.Meaning is not WordMeaning.Expired)
        {
            verdict = GaveUp(f, GaveUpRule, ClassificationSignal.Reason,
                $"Mailgun gave up after its retry window (reason old), and the last answer was transient (rule {soft.Rule})");
        }

        return Finish(verdict.Value, f);
    }

    /// <summary>
    /// (2) The cause the answer states, in this order (docs/classification.md, "Order of trust"): Mailgun's and a few providers' exact markers;
    /// a sender-side cause (specific code such as X.7.26, or words such as "blocked using", "SPF", "rate limited",
    /// "relay access denied", "message size"); an expiry (the relay gave up after retrying); the recipient's causes
    /// (no such user or domain, disabled, moved, full, blocked by the recipient); the recipient's system being busy or
    /// looping; a policy or content refusal worded only in general terms. Whatever the code, the code's class or the severity.
    /// </summary>
    private Verdict? StatedCause(in Facts f)
    {
        ref readonly var w = ref f.Words;
        if (w[CauseGroup.Decisive] is { Found: true } decisive)
        {
            return FromWords(f, decisive);
        }

        if (SenderSideCode(f) is { } senderCode)
        {
            return senderCode;
        }

        if (w[CauseGroup.Sender] is { Found: true } sender)
        {
            return FromWords(f, sender);
        }

        if (w[CauseGroup.Expiry] is { Found: true } expired)
        {
            return FromWords(f, expired);
        }

        if (f.Enhanced is { Subject: 4, Detail: 7 } && f.PermanentFailure)
        {
            // 5.4.7 (or a 4.4.7 in a final failure) says a relay gave up; a 4.4.7 that Mailgun will retry is only a delay warning.
            return GaveUp(f, "enhanced-x.4.7-expired", ClassificationSignal.EnhancedCode,
                $"Enhanced code {f.EnhancedText}: delivery time expired, a relay gave up after retrying (RFC 3463 X.4.7)");
        }

        if (w[CauseGroup.Recipient] is { Found: true } recipient)
        {
            // An exact addressing or mailbox code (5.1.1, 5.2.1, 5.2.2...) agrees with the words and names the rule more precisely.
            return AddressCode(f) ?? FromWords(f, recipient);
        }

        if (w[CauseGroup.RecipientBusy] is { Found: true } busy)
        {
            return FromWords(f, busy);
        }

        return w[CauseGroup.WeakSender] is { Found: true } weak ? FromWords(f, weak) : null;
    }

    /// <summary>(3) No stated cause: the exact codes, then the general words, then the codes by class, then the basic code.</summary>
    private Verdict? FromCodes(in Facts f) =>
        AddressCode(f) ?? GeneralWords(f) ?? GeneralEnhancedCode(f) ?? FromSmtpCode(f);

    /// <summary>General words decide only what no cause and no exact code settled.</summary>
    private static Verdict? GeneralWords(in Facts f)
    {
        ref readonly var w = ref f.Words;
        var refused = w[CauseGroup.GenericRefusal];
        if (w[CauseGroup.RecipientRefused] is { Found: true } subject)
        {
            // "Recipient address rejected: Access denied": the refusal is about the recipient address, with no cause of ours named.
            bool blocked = refused.Found && refused.Written.Span.StartsWith("block", StringComparison.OrdinalIgnoreCase);
            return Ambiguous(blocked ? BounceCategory.Blocked : BounceCategory.HardBounce, "words-recipient-refused", ClassificationSignal.Words,
                $"Words \"{subject.Text}\"{(refused.Found ? $" and \"{refused.Text}\"" : "")} in the answer: the server refuses the recipient address itself and names no cause of ours.",
                subject);
        }

        if (refused.Found)
        {
            return Certain(BounceCategory.SenderIssue, "words-refused-without-cause", ClassificationSignal.Words,
                $"Words \"{refused.Text}\" in the answer: a refusal that names no recipient-side cause (no unknown user, no recipient's block); such refusals are about our sending, not the contact.",
                refused);
        }

        return w[CauseGroup.GenericTemporary] is { Found: true } temporary
            ? Certain(BounceCategory.SoftBounce, "words-temporary", ClassificationSignal.Words,
                $"Words \"{temporary.Text}\" in the answer: a transient problem on the receiving side.", temporary)
            : null;
    }

    // (1) Mailgun did not even try: the address is on one of its suppression lists. These hold whatever the severity:
    // Mailgun will not send to the address until someone removes it from the list.
    private static Verdict? Suppression(in Facts f)
    {
        if (f.Code == 605 || f.ReasonIs("suppress-bounce"))
        {
            return Platform(BounceCategory.HardBounce, f.Code == 605 ? "mailgun-605" : "reason-suppress-bounce", SignalOfSuppression(f, 605),
                "Mailgun did not send: the address bounced before and is on the domain's bounce list (code 605 / suppress-bounce).");
        }

        if (f.Code == 606 || f.ReasonIs("suppress-unsubscribe"))
        {
            return Platform(BounceCategory.Unsubscribe, f.Code == 606 ? "mailgun-606" : "reason-suppress-unsubscribe", SignalOfSuppression(f, 606),
                "Mailgun did not send: the address unsubscribed and is on the domain's unsubscribe list (code 606 / suppress-unsubscribe).");
        }

        if (f.Code == 607 || f.ReasonIs("suppress-complaint"))
        {
            return Platform(BounceCategory.Complaint, f.Code == 607 ? "mailgun-607" : "reason-suppress-complaint", SignalOfSuppression(f, 607),
                "Mailgun did not send: the contact complained before and is on the domain's complaint list (code 607 / suppress-complaint).");
        }

        return null;
    }

    private static ClassificationSignal SignalOfSuppression(in Facts f, int code) =>
        f.Code == code ? ClassificationSignal.MailgunCode : ClassificationSignal.Reason;

    // (1) Codes only Mailgun (or the platform's SMS side, Twilio) produces: they mean exactly one thing.
    private Verdict? MailgunOrCarrierCode(in Facts f)
    {
        switch (f.Code)
        {
            case 498:
                return Certain(BounceCategory.SoftBounce, "mailgun-498-no-mx", ClassificationSignal.MailgunCode,
                    "Mailgun code 498: the recipient's domain has no MX record right now; Mailgun treats it as temporary.");
            case 499:
                return Certain(BounceCategory.SoftBounce, "mailgun-499-no-connection", ClassificationSignal.MailgunCode,
                    "Mailgun code 499: Mailgun could not connect to the recipient's mail server.");
            case 625:
                return Certain(BounceCategory.SenderIssue, "mailgun-625-list-quality", ClassificationSignal.MailgunCode,
                    "Mailgun code 625: Mailgun held the message over the list's quality, a sending-side problem.");
            case 30003:
                return Certain(BounceCategory.SoftBounce, "carrier-30003", ClassificationSignal.CarrierCode,
                    "Carrier code 30003: unreachable handset, transient (platform rule: soft bounce).");
            case 30004:
                return Platform(BounceCategory.Blocked, "carrier-30004", ClassificationSignal.CarrierCode,
                    "Carrier code 30004: the message is blocked for this number (platform rule: blocked by carrier, permanent).");
            case 30005:
            case 30006:
                bool soft = _options.CarrierUnknownNumberIsSoft;
                string what = f.Code == 30005 ? "unknown or inactive number" : "landline or unreachable carrier";
                return Platform(soft ? BounceCategory.SoftBounce : BounceCategory.HardBounce, $"carrier-{f.Code}", ClassificationSignal.CarrierCode,
                    soft
                        ? $"Carrier code {f.Code}: {what}; the platform documents it as a soft bounce (Classifier:CarrierUnknownNumberIsSoft=true)."
                        : $"Carrier code {f.Code}: {what}; a permanent failure as Twilio defines it (Classifier:CarrierUnknownNumberIsSoft=false).");
            case 30007:
                return Platform(BounceCategory.Blocked, "carrier-30007", ClassificationSignal.CarrierCode,
                    "Carrier code 30007: the carrier filtered the message (platform rule: blocked by carrier, permanent).");
            case 30008:
                return Certain(BounceCategory.SoftBounce, "carrier-30008", ClassificationSignal.CarrierCode,
                    "Carrier code 30008: unknown carrier error, transient.");
            default:
                return null;
        }
    }

    /// <summary>Enhanced codes that name a sender-side cause exactly: they decide before any word.</summary>
    private static Verdict? SenderSideCode(in Facts f)
    {
        if (f.Enhanced is not { } e)
        {
            return null;
        }

        return (e.Subject, e.Detail) switch
        {
            (1, 7) or (1, 8) => Certain(BounceCategory.SenderIssue, "enhanced-x.1.7-sender-address", ClassificationSignal.EnhancedCode,
                "Enhanced code {0}: our sender address or its domain was refused (RFC 3463 X.1.7/X.1.8).", arg: f.EnhancedText),
            (2, 3) or (3, 4) => Certain(BounceCategory.SenderIssue, "enhanced-x.2.3-message-too-big", ClassificationSignal.EnhancedCode,
                "Enhanced code {0}: our message is too big for this mailbox or system (RFC 3463 X.2.3/X.3.4).", arg: f.EnhancedText),
            (5, 3) => Certain(BounceCategory.SenderIssue, "enhanced-x.5.3-too-many-recipients", ClassificationSignal.EnhancedCode,
                "Enhanced code {0}: too many recipients in one transaction, a sending-side limit (RFC 3463 X.5.3).", arg: f.EnhancedText),
            (7, >= 23 and <= 27) => Certain(BounceCategory.SenderIssue, "enhanced-x.7.23-27-authentication", ClassificationSignal.EnhancedCode,
                "Enhanced code {0}: our SPF, DKIM, DMARC or DNS failed the receiver's checks (RFC 7372), not the contact's fault.", arg: f.EnhancedText),
            // Microsoft's own details: 5.7.5xx banned or unauthenticated sender, 4.7.5xx-6xx throttled or banned sending IP,
            // 5.7.7xx traffic refused from the sending IP or tenant.
            (7, (>= 500 and <= 649) or (>= 700 and <= 799)) => Certain(BounceCategory.SenderIssue, "enhanced-5.7.6xx-7xx-microsoft-sender-block", ClassificationSignal.EnhancedCode,
                "Enhanced code {0}: Microsoft refuses or throttles our sending IP, domain or account, not the contact's fault.", arg: f.EnhancedText),
            _ => null,
        };
    }

    /// <summary>Enhanced codes whose subject and detail name an address or mailbox status exactly.</summary>
    private Verdict? AddressCode(in Facts f)
    {
        if (f.Enhanced is not { } e)
        {
            return null;
        }

        bool permanent = e.IsPermanent;
        switch (e.Subject, e.Detail)
        {
            case (1, 1) or (1, 2) or (1, 3) or (1, 6) or (1, 10):
                return permanent
                    ? Certain(BounceCategory.HardBounce, "enhanced-5.1.x", ClassificationSignal.EnhancedCode,
                        "Enhanced code {0}: the address does not exist (bad mailbox, domain or syntax, moved, or null MX; RFC 3463 addressing status).", arg: f.EnhancedText)
                    : Certain(BounceCategory.SoftBounce, "enhanced-4.1.x", ClassificationSignal.EnhancedCode,
                        "Enhanced code {0}: the server could not check the address right now (transient addressing status).", arg: f.EnhancedText);
            case (2, 1):
                return permanent
                    ? Certain(BounceCategory.HardBounce, "enhanced-5.2.1-disabled", ClassificationSignal.EnhancedCode,
                        "Enhanced code {0}: the mailbox is disabled and not accepting messages (RFC 3463 X.2.1).", arg: f.EnhancedText)
                    : Certain(BounceCategory.SoftBounce, "enhanced-4.2.1", ClassificationSignal.EnhancedCode,
                        "Enhanced code {0}: the mailbox is not accepting messages right now (transient).", arg: f.EnhancedText);
            case (2, 2):
                return MailboxFull(f, "enhanced-x.2.2-mailbox-full", ClassificationSignal.EnhancedCode, $"Enhanced code {f.EnhancedText}: the mailbox is full");
            case (4, 7) when permanent:
                return GaveUp(f, "enhanced-x.4.7-expired", ClassificationSignal.EnhancedCode,
                    $"Enhanced code {f.EnhancedText}: delivery time expired, a relay gave up after retrying (RFC 3463 X.4.7)");
            default:
                return null;
        }
    }

    /// <summary>What a stated cause (a phrase of <see cref="ResponseWords"/>) means for the contact.</summary>
    private Verdict? FromWords(in Facts f, WordsMatch words)
    {
        string heard = $"Words \"{words.Text}\" in the answer";
        return words.Meaning switch
        {
            WordMeaning.PreviouslyBounced => Platform(BounceCategory.HardBounce, "words-previously-bounced", ClassificationSignal.Words,
                $"{heard}: Mailgun did not send because the address bounced before.", words),
            WordMeaning.Unsubscribed => Platform(BounceCategory.Unsubscribe, "words-unsubscribed", ClassificationSignal.Words,
                $"{heard}: Mailgun did not send because the contact unsubscribed.", words),
            WordMeaning.Complained => Platform(BounceCategory.Complaint, "words-complained", ClassificationSignal.Words,
                $"{heard}: Mailgun did not send because the contact complained.", words),
            WordMeaning.SenderAuthentication => Certain(BounceCategory.SenderIssue, "words-sender-authentication", ClassificationSignal.Words,
                $"{heard}: our SPF, DKIM, DMARC, reverse DNS or SMTP authentication failed the receiver's checks, not the contact's fault.", words),
            WordMeaning.SenderBlocklist => Certain(BounceCategory.SenderIssue, "words-sender-blocklisted", ClassificationSignal.Words,
                $"{heard}: our sending IP or domain is blocklisted or has a poor reputation, not the contact's fault.", words),
            WordMeaning.SpamContent => Certain(BounceCategory.SenderIssue, "words-content-rejected", ClassificationSignal.Words,
                $"{heard}: the receiver judged our message as spam or unsafe content, not the contact's fault.", words),
            WordMeaning.RateLimited => Certain(BounceCategory.SenderIssue, "words-rate-limited", ClassificationSignal.Words,
                $"{heard}: the receiver limits how fast, how much or to how many we send, not the contact's fault.", words),
            WordMeaning.SenderRejected => Certain(BounceCategory.SenderIssue, "words-sender-rejected", ClassificationSignal.Words,
                $"{heard}: the receiver refused our sender, envelope or message form, not the contact's fault.", words),
            WordMeaning.MessageTooLarge => Certain(BounceCategory.SenderIssue, "words-message-too-large", ClassificationSignal.Words,
                $"{heard}: our message is too large for the receiver, not the contact's fault.", words),
            WordMeaning.Protocol => Certain(BounceCategory.SenderIssue, "words-protocol", ClassificationSignal.Words,
                $"{heard}: an SMTP protocol or syntax problem between the mail servers, not the contact's fault.", words),
            WordMeaning.ListMembership => Certain(BounceCategory.SenderIssue, "words-list-members-only", ClassificationSignal.Words,
                $"{heard}: a mailing list that takes posts from its members only refused our sender, not the contact's fault.", words),
            WordMeaning.RelayDenied => Certain(BounceCategory.SenderIssue, "words-relay-denied", ClassificationSignal.Words,
                $"{heard}: the server will not relay for us (it does not serve this domain to us, or wants us to authenticate): our route or setup, not the contact's fault.", words),
            WordMeaning.SenderPolicy => Certain(BounceCategory.SenderIssue, "words-sender-policy", ClassificationSignal.Words,
                $"{heard}: a policy or content refusal of our message, with no recipient-side cause named; not the contact's fault.", words),
            WordMeaning.Expired => GaveUp(f, "words-expired", ClassificationSignal.Words,
                $"{heard}: a relay gave up after its retry window; the answers during the window were transient", words),
            WordMeaning.BlockedByRecipient => Ambiguous(BounceCategory.Blocked, "words-blocked-by-recipient", ClassificationSignal.Words,
                $"{heard}: the recipient or its organisation refuses our messages.", words),
            WordMeaning.AccountDisabled => Certain(BounceCategory.HardBounce, "words-account-disabled", ClassificationSignal.Words,
                $"{heard}: the mailbox is disabled, suspended or closed.", words),
            WordMeaning.Moved => Certain(BounceCategory.HardBounce, "words-moved", ClassificationSignal.Words,
                $"{heard}: the address has moved and no longer takes mail.", words),
            WordMeaning.DomainUnknown => Certain(BounceCategory.HardBounce, "words-domain-unknown", ClassificationSignal.Words,
                $"{heard}: the address's domain does not exist or does not take mail.", words),
            WordMeaning.UserUnknown => Certain(BounceCategory.HardBounce, "words-user-unknown", ClassificationSignal.Words,
                $"{heard}: the mailbox does not exist.", words),
            WordMeaning.MailboxFull => MailboxFull(f, "words-mailbox-full", ClassificationSignal.Words, $"{heard}: the mailbox is full", words),
            WordMeaning.RecipientBusy => Certain(BounceCategory.SoftBounce, "words-recipient-busy", ClassificationSignal.Words,
                $"{heard}: the recipient's system is busy, receiving too fast or looping; it may take the message later.", words),
            WordMeaning.Greylisted => Certain(BounceCategory.SoftBounce, "words-greylisted", ClassificationSignal.Words,
                $"{heard}: greylisting, the server asks to come back later by design.", words),
            _ => null,
        };
    }

    // (4a) Enhanced codes read by class and subject when neither a specific detail nor the words decided.
    private static Verdict? GeneralEnhancedCode(in Facts f)
    {
        if (f.Enhanced is not { } e)
        {
            return null;
        }

        if (!e.IsPermanent)
        {
            return Certain(BounceCategory.SoftBounce, "enhanced-4.x.x-transient", ClassificationSignal.EnhancedCode,
                "Enhanced code {0}: class 4, a persistent transient failure (RFC 3463); the message may still be delivered.", arg: f.EnhancedText);
        }

        return e.Subject switch
        {
            1 or 2 => Ambiguous(BounceCategory.HardBounce, "enhanced-5.1.x", ClassificationSignal.EnhancedCode,
                "Enhanced code {0}: a permanent addressing or mailbox status (RFC 3463 X.1/X.2).", arg: f.EnhancedText),
            4 => Ambiguous(BounceCategory.HardBounce, "enhanced-5.4.x-routing", ClassificationSignal.EnhancedCode,
                "Enhanced code {0}: mail for this address cannot be routed (RFC 3463 X.4 network and routing).", arg: f.EnhancedText),
            5 => Certain(BounceCategory.SenderIssue, "enhanced-x.5.x-protocol", ClassificationSignal.EnhancedCode,
                "Enhanced code {0}: an SMTP protocol or syntax error between the mail servers (RFC 3463 X.5), not the contact's fault.", arg: f.EnhancedText),
            6 => Certain(BounceCategory.SenderIssue, "enhanced-x.6.x-content", ClassificationSignal.EnhancedCode,
                "Enhanced code {0}: the receiver cannot take our message's content or format (RFC 3463 X.6).", arg: f.EnhancedText),
            // A security or policy refusal that names no recipient-side cause: a recipient's own block names itself
            // ("recipient has blocked", "blocked senders", RESOLVER.RST...), so a bare X.7.x is about our sending.
            7 => Certain(BounceCategory.SenderIssue, "enhanced-5.7.x-policy", ClassificationSignal.EnhancedCode,
                "Enhanced code {0}: refused by the receiver's security or policy checks (RFC 3463 X.7), and the answer names no recipient-side cause: our sending, not the contact's fault.", arg: f.EnhancedText),
            // X.0.0, X.3.x: too general to say more than the basic code does.
            _ => null,
        };
    }

    // (4b) The basic RFC 5321 code.
    private Verdict? FromSmtpCode(in Facts f)
    {
        int code = f.SmtpCode;
        if (code == 0)
        {
            return null;
        }

        if (code is >= 400 and < 500)
        {
            return Certain(BounceCategory.SoftBounce, "smtp-4xx-transient", ClassificationSignal.SmtpCode,
                "SMTP code {0}: a transient failure (RFC 5321 4yz); Mailgun retries.", arg: code.ToString(CultureInfo.InvariantCulture));
        }

        return code switch
        {
            >= 500 and <= 504 => Certain(BounceCategory.SenderIssue, "smtp-50x-protocol", ClassificationSignal.SmtpCode,
                "SMTP code {0}: a command syntax or sequence error between the mail servers (RFC 5321), not the contact's fault.", arg: code.ToString(CultureInfo.InvariantCulture)),
            550 => Ambiguous(BounceCategory.HardBounce, "smtp-550", ClassificationSignal.SmtpCode,
                "SMTP code 550: mailbox unavailable, and the words name no other cause (platform rule: hard bounce)."),
            551 => Ambiguous(BounceCategory.HardBounce, "smtp-551-user-not-local", ClassificationSignal.SmtpCode,
                "SMTP code 551: user not local, the address is not served here (platform rule: hard bounce)."),
            552 => MailboxFull(f, "smtp-552-mailbox-full", ClassificationSignal.SmtpCode, "SMTP code 552: exceeded storage allocation, the mailbox is full"),
            553 => Ambiguous(BounceCategory.HardBounce, "smtp-553-mailbox-name", ClassificationSignal.SmtpCode,
                "SMTP code 553: mailbox name not allowed (RFC 5321)."),
            // 554 "transaction failed" names no cause at all: only words or severity can decide it.
            554 => null,
            _ => Ambiguous(BounceCategory.HardBounce, "smtp-5xx-permanent", ClassificationSignal.SmtpCode,
                "SMTP code {0}: a permanent failure (RFC 5321 5yz) with no more specific code or words.", arg: code.ToString(CultureInfo.InvariantCulture)),
        };
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

    /// <summary>Retries exhausted: every answer was transient, so by default the mailbox may well be fine.</summary>
    private Verdict GaveUp(in Facts f, string rule, ClassificationSignal signal, string heard, WordsMatch? words = null) =>
        _options.GaveUpAfterRetriesIsPermanent
            ? Platform(BounceCategory.HardBounce, rule, signal,
                $"{heard} (platform rule: a permanent failure is a permanent DND; Classifier:GaveUpAfterRetriesIsPermanent=true).", words)
            : Certain(BounceCategory.SoftBounce, rule, signal,
                $"{heard}: the mailbox may be fine, so only a temporary DND (Classifier:GaveUpAfterRetriesIsPermanent=false).", words);

    /// <summary>Mailbox full: a platform rule (hard bounce) against RFC 3463, switchable; a 4xx over-quota is always soft.</summary>
    private Verdict MailboxFull(in Facts f, string rule, ClassificationSignal signal, string heard, WordsMatch? words = null)
    {
        if (f.TransientCode)
        {
            return Certain(BounceCategory.SoftBounce, rule, signal, $"{heard}, and the server called it transient (4xx); Mailgun retries.", words);
        }

        if (!f.HasServerCode && f.SeverityIs("temporary"))
        {
            return Certain(BounceCategory.SoftBounce, rule, signal, $"{heard}, without a server code and with severity temporary; Mailgun retries.", words);
        }

        return _options.MailboxFullIsPermanent
            ? Platform(BounceCategory.HardBounce, rule, signal,
                $"{heard} (platform rule: a full mailbox is a hard bounce although RFC 3463 calls it transient; Classifier:MailboxFullIsPermanent=true).", words)
            : Certain(BounceCategory.SoftBounce, rule, signal,
                $"{heard}; transient by RFC 3463 (Classifier:MailboxFullIsPermanent=false).", words);
    }

    private Classification Finish(Verdict v, in Facts f)
    {
        var category = v.Category;
        string rule = v.Rule;
        var signal = v.Signal;
        string explanation = v.Explained;

        // espblock: Mailgun recognised a mailbox provider's block of our sending. It is never enough alone, but it
        // settles a refusal whose code and words could mean either side.
        if (v.Ambiguous && category is BounceCategory.HardBounce or BounceCategory.Blocked && f.ReasonIs("espblock"))
        {
            category = BounceCategory.SenderIssue;
            rule = "reason-espblock";
            signal = ClassificationSignal.Reason;
            explanation = $"Mailgun's reason espblock: the mailbox provider blocks our sending, and the answer names no recipient-side cause (rule {v.Rule} alone would have said {v.Category.ToProductName()}); not the contact's fault.";
        }

        // Mailgun retries transient failures, and the outcome may still be a delivery: no permanent DND on them
        // unless the platform documents one.
        if (!v.PlatformRule && category is BounceCategory.HardBounce or BounceCategory.Blocked && (f.TransientCode || f.SeverityIs("temporary")))
        {
            category = BounceCategory.SoftBounce;
            explanation = $"{explanation} The failure is transient ({(f.TransientCode ? "4xx code" : "severity temporary")}), so only a temporary DND.";
        }

        string? outranked = Outranked(v, f, category);
        if (outranked is not null)
        {
            explanation = $"{explanation} It outranks {outranked}.";
        }

        return new Classification(category, rule, explanation)
        {
            Code = f.Code ?? (f.SmtpCode == 0 ? null : f.SmtpCode),
            EnhancedCode = f.EnhancedText,
            Signal = signal,
            Words = v.Words?.Text ?? f.Words.Best.Text,
            Outranked = outranked,
        };
    }

    /// <summary>
    /// The signals of the answer that would have meant something else for the contact, had they decided: the code read
    /// alone, the words of the other cause groups, and the severity. Null when nothing pointed elsewhere. "Something else"
    /// is another <see cref="Meaning"/>: the classifier compares what the signals say about the contact, never DND states.
    /// </summary>
    private string? Outranked(in Verdict v, in Facts f, BounceCategory decided)
    {
        var meaning = Meaning(decided);
        if (v.Signal is ClassificationSignal.MailgunCode or ClassificationSignal.CarrierCode || v.PlatformRule && v.Signal == ClassificationSignal.Words && v.Words?.Meaning is WordMeaning.PreviouslyBounced or WordMeaning.Unsubscribed or WordMeaning.Complained)
        {
            return null;
        }

        string? found = null;
        if (v.Signal is ClassificationSignal.Words or ClassificationSignal.Reason && f.HasServerCode
            && (SenderSideCode(f) ?? AddressCode(f) ?? GeneralEnhancedCode(f) ?? FromSmtpCode(f)) is { } code
            && code.Rule != v.Rule && Meaning(code.Category) != meaning)
        {
            found = $"the code {(f.Enhanced is null ? f.SmtpCode.ToString(CultureInfo.InvariantCulture) : f.EnhancedText)} read alone (rule {code.Rule}: {code.Category.ToProductName()})";
        }

        for (var group = CauseGroup.Sender; group <= CauseGroup.GenericTemporary; group++)
        {
            var words = f.Words[group];
            if (words.Found && words.Rank != v.Words?.Rank && MeaningOf(group) is { } natural && natural != meaning)
            {
                found = Join(found, $"the words \"{words.Text}\" ({GroupName(group)})");
            }
        }

        if (f.SeverityIs("permanent") && meaning is ContactMeaning.NotTheContact or ContactMeaning.Transient)
        {
            found = Join(found, "severity permanent");
        }
        else if (f.SeverityIs("temporary") && meaning is ContactMeaning.AddressRefused or ContactMeaning.ContactAsked)
        {
            found = Join(found, "severity temporary");
        }

        return found;

        static string Join(string? list, string item) => list is null ? item : $"{list}; {item}";
    }

    /// <summary>
    /// What a category says about the contact, in the terms the explanation compares signals by: categories that say the
    /// same thing (a hard bounce and a block both refuse the address; no effect and a sender issue both leave the contact
    /// out of it) do not outrank each other.
    /// </summary>
    private enum ContactMeaning
    {
        NotTheContact,
        Transient,
        AddressRefused,
        ContactAsked,
        Complained,
    }

    private static ContactMeaning Meaning(BounceCategory category) => category switch
    {
        BounceCategory.HardBounce or BounceCategory.Blocked => ContactMeaning.AddressRefused,
        BounceCategory.SoftBounce => ContactMeaning.Transient,
        BounceCategory.Unsubscribe => ContactMeaning.ContactAsked,
        BounceCategory.Complaint => ContactMeaning.Complained,
        _ => ContactMeaning.NotTheContact,
    };

    private static ContactMeaning? MeaningOf(CauseGroup group) => group switch
    {
        CauseGroup.Sender or CauseGroup.WeakSender or CauseGroup.GenericRefusal => ContactMeaning.NotTheContact,
        CauseGroup.Expiry or CauseGroup.RecipientBusy or CauseGroup.GenericTemporary => ContactMeaning.Transient,
        CauseGroup.Recipient or CauseGroup.RecipientRefused => ContactMeaning.AddressRefused,
        _ => null,
    };

    private static string GroupName(CauseGroup group) => group switch
    {
        CauseGroup.Sender => "a sender-side cause",
        CauseGroup.Expiry => "an expiry",
        CauseGroup.Recipient => "a recipient-side cause",
        CauseGroup.RecipientBusy => "the recipient's system busy",
        CauseGroup.WeakSender => "a policy or content refusal",
        CauseGroup.GenericRefusal => "a refusal naming no cause",
        CauseGroup.RecipientRefused => "the recipient address refused",
        _ => "transient in general terms",
    };

    private static Classification Decide(BounceCategory category, string rule, ClassificationSignal signal, string explanation, string? words = null) =>
        new(category, rule, explanation) { Signal = signal, Words = words };

    private WordFindings ScanWords(in ClassificationInput input)
    {
        int max = _options.MaxScannedCharacters;
        var findings = WordFindings.Empty;
        ResponseWords.Find(CappedMemory(input.Message, max), ref findings);
        ResponseWords.Find(CappedMemory(input.Description, max), ref findings);
        ResponseWords.Find(CappedMemory(input.LastMessage, max), ref findings);
        if (string.Equals(input.EventType, "rejected", StringComparison.OrdinalIgnoreCase))
        {
            ResponseWords.Find(CappedMemory(input.Reason, max), ref findings);
        }

        return findings;
    }

    private static ReadOnlyMemory<char> CappedMemory(string? text, int max) =>
        text is null ? default : text.Length <= max ? text.AsMemory() : text.AsMemory(0, max);

    internal static ReadOnlySpan<char> Capped(string? text, int max) =>
        text is null ? default : text.Length <= max ? text.AsSpan() : text.AsSpan(0, max);

    private static bool Is(string? value, string expected) =>
        value is not null && value.AsSpan().Trim().Equals(expected, StringComparison.OrdinalIgnoreCase);

    private static Verdict Certain(BounceCategory c, string rule, ClassificationSignal s, string explanation, WordsMatch? words = null, string? arg = null) => new(c, rule, s, explanation, false, false, words, arg);

    private static Verdict Ambiguous(BounceCategory c, string rule, ClassificationSignal s, string explanation, WordsMatch? words = null, string? arg = null) => new(c, rule, s, explanation, true, false, words, arg);

    private static Verdict Platform(BounceCategory c, string rule, ClassificationSignal s, string explanation, WordsMatch? words = null, string? arg = null) => new(c, rule, s, explanation, false, true, words, arg);

    /// <summary>
    /// A rule's answer before the final checks. <see cref="Ambiguous"/>: the signal is known to be used for
    /// policy blocks too (550, X.7.x, severity), so espblock may overturn it. <see cref="PlatformRule"/>: a documented
    /// platform rule that holds even for a transient failure. <see cref="Arg"/>: when set, <see cref="Explanation"/> is a
    /// format with {0} for it (the code), formatted only if this verdict decides: a rule read only to say what it lost to costs no string.
    /// </summary>
    private readonly record struct Verdict(BounceCategory Category, string Rule, ClassificationSignal Signal, string Explanation, bool Ambiguous, bool PlatformRule, WordsMatch? Words, string? Arg = null)
    {
        public string Explained => Arg is null ? Explanation : string.Format(CultureInfo.InvariantCulture, Explanation, Arg);
    }

    /// <summary>The signals of one failure, read once (not readonly only so that the words can be added in place).</summary>
    private struct Facts
    {
        public Facts(in ClassificationInput input, int maxScanned)
        {
            Code = input.Code is 0 ? null : input.Code;
            Severity = input.Severity;
            Reason = input.Reason;
            BounceType = input.BounceType;
            Words = WordFindings.Empty;

            // Mailgun's own codes (498, 602...) are not SMTP answers; after retries the last SMTP code may be in last-code.
            SmtpCode = input.Code is >= 400 and < 600 ? input.Code.Value
                : input.LastCode is >= 400 and < 600 ? input.LastCode.Value
                : LeadingSmtpCode(input.Message) ?? LeadingSmtpCode(input.LastMessage) ?? 0;

            if (EnhancedStatusCode.TryParse(input.EnhancedCode, out var e) || EnhancedStatusCode.TryParse(input.BounceCode, out e)
                || EnhancedStatusCode.TryFind(Capped(input.Message, maxScanned), out e)
                || EnhancedStatusCode.TryFind(Capped(input.Description, maxScanned), out e)
                || EnhancedStatusCode.TryFind(Capped(input.LastMessage, maxScanned), out e))
            {
                Enhanced = e;
                EnhancedText = input.EnhancedCode is { } given && EnhancedStatusCode.TryParse(given, out _) ? given.Trim() : e.ToString();
            }
        }

        public int? Code { get; }
        public int SmtpCode { get; }
        public EnhancedStatusCode? Enhanced { get; }
        public string? EnhancedText { get; }
        /// <summary>A field, not a property: read through <c>in</c> without copying its nine slots.</summary>
        public WordFindings Words;
        private string? Severity { get; }
        private string? Reason { get; }
        private string? BounceType { get; }

        /// <summary>The server answered with a transient code (4xx or class 4).</summary>
        public readonly bool TransientCode => Enhanced is { Class: 4 } || SmtpCode is >= 400 and < 500;

        public readonly bool HasServerCode => Enhanced is not null || SmtpCode != 0;

        /// <summary>The failure is final: a 5xx answer, or Mailgun's severity permanent.</summary>
        public readonly bool PermanentFailure => SeverityIs("permanent") || SmtpCode is >= 500 and < 600 || Enhanced is { Class: 5 };

        /// <summary>Mailgun gave up after its retry window: <c>reason: old</c>, seen with its codes 602 and 616.</summary>
        public readonly bool GaveUpAfterRetries => ReasonIs("old") || Code is 602 or 616;

        public readonly bool ReasonIs(string value) => Is(Reason, value);

        public readonly bool SeverityIs(string value) => Is(Severity, value);

        public readonly bool BounceTypeIs(string value) => Is(BounceType, value);

        /// <summary>"550 5.1.1 ..." or "550-5.7.1 ...": the code an operator pastes with the message.</summary>
        private static int? LeadingSmtpCode(string? text)
        {
            if (text is null)
            {
                return null;
            }

            // A DSN's Diagnostic-Code ("smtp; 550 5.1.1 ...") and Exchange's NDR text ("#550 5.1.1 ...") put a prefix first.
            var s = text.AsSpan().TrimStart();
            if (s.StartsWith("smtp;", StringComparison.OrdinalIgnoreCase))
            {
                s = s[5..].TrimStart();
            }

            s = s.TrimStart('#');
            return s.Length >= 3 && s[0] is '4' or '5' && char.IsAsciiDigit(s[1]) && char.IsAsciiDigit(s[2])
                && (s.Length == 3 || s[3] is ' ' or '-')
                ? (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0')
                : null;
        }
    }
}
