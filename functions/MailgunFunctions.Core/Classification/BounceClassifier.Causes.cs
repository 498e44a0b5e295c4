namespace MailgunFunctions.Classification;

// Cause detection: the cause an answer's words state, and what it means for the contact (steps 2 and the general words of 3).
public sealed partial class BounceClassifier
{
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
                "Enhanced code {0}: delivery time expired, a relay gave up after retrying (RFC 3463 X.4.7)", arg: f.EnhancedText);
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

    /// <summary>General words decide only what no cause and no exact code settled.</summary>
    private static Verdict? GeneralWords(in Facts f)
    {
        ref readonly var w = ref f.Words;
        var refused = w[CauseGroup.GenericRefusal];
        if (w[CauseGroup.RecipientRefused] is { Found: true } subject)
        {
            // "Recipient address rejected: Access denied": the refusal is about the recipient address, with no cause of ours named.
            bool blocked = refused.Found && refused.Written.Span.StartsWith("block", StringComparison.OrdinalIgnoreCase);
            const string Refuses = " in the answer: the server refuses the recipient address itself and names no cause of ours.";
            return refused.Found
                ? Ambiguous(blocked ? BounceCategory.Blocked : BounceCategory.HardBounce, "words-recipient-refused", ClassificationSignal.Words,
                    "Words \"{1}\" and \"{0}\"" + Refuses, subject, arg: refused.Text)
                : Ambiguous(blocked ? BounceCategory.Blocked : BounceCategory.HardBounce, "words-recipient-refused", ClassificationSignal.Words,
                    "Words \"{1}\"" + Refuses, subject);
        }

        if (refused.Found)
        {
            return Certain(BounceCategory.SenderIssue, "words-refused-without-cause", ClassificationSignal.Words,
                "Words \"{1}\" in the answer: a refusal that names no recipient-side cause (no unknown user, no recipient's block); such refusals are about our sending, not the contact.",
                refused);
        }

        return w[CauseGroup.GenericTemporary] is { Found: true } temporary
            ? Certain(BounceCategory.SoftBounce, "words-temporary", ClassificationSignal.Words,
                "Words \"{1}\" in the answer: a transient problem on the receiving side.", temporary)
            : null;
    }

    /// <summary>The start of every explanation of a stated cause: {1} is the words as written (see <see cref="Verdict"/>).</summary>
    private const string Heard = "Words \"{1}\" in the answer";

    /// <summary>What a stated cause (a phrase of <see cref="ResponseWords"/>) means for the contact.</summary>
    private Verdict? FromWords(in Facts f, WordsMatch words)
    {
        return words.Meaning switch
        {
            WordMeaning.PreviouslyBounced => Platform(BounceCategory.HardBounce, "words-previously-bounced", ClassificationSignal.Words,
                Heard + ": Mailgun did not send because the address bounced before.", words),
            WordMeaning.Unsubscribed => Platform(BounceCategory.Unsubscribe, "words-unsubscribed", ClassificationSignal.Words,
                Heard + ": Mailgun did not send because the contact unsubscribed.", words),
            WordMeaning.Complained => Platform(BounceCategory.Complaint, "words-complained", ClassificationSignal.Words,
                Heard + ": Mailgun did not send because the contact complained.", words),
            WordMeaning.SenderAuthentication => Certain(BounceCategory.SenderIssue, "words-sender-authentication", ClassificationSignal.Words,
                Heard + ": our SPF, DKIM, DMARC, reverse DNS or SMTP authentication failed the receiver's checks, not the contact's fault.", words),
            WordMeaning.SenderBlocklist => Certain(BounceCategory.SenderIssue, "words-sender-blocklisted", ClassificationSignal.Words,
                Heard + ": our sending IP or domain is blocklisted or has a poor reputation, not the contact's fault.", words),
            WordMeaning.SpamContent => Certain(BounceCategory.SenderIssue, "words-content-rejected", ClassificationSignal.Words,
                Heard + ": the receiver judged our message as spam or unsafe content, not the contact's fault.", words),
            WordMeaning.RateLimited => Certain(BounceCategory.SenderIssue, "words-rate-limited", ClassificationSignal.Words,
                Heard + ": the receiver limits how fast, how much or to how many we send, not the contact's fault.", words),
            WordMeaning.SenderRejected => Certain(BounceCategory.SenderIssue, "words-sender-rejected", ClassificationSignal.Words,
                Heard + ": the receiver refused our sender, envelope or message form, not the contact's fault.", words),
            WordMeaning.MessageTooLarge => Certain(BounceCategory.SenderIssue, "words-message-too-large", ClassificationSignal.Words,
                Heard + ": our message is too large for the receiver, not the contact's fault.", words),
            WordMeaning.Protocol => Certain(BounceCategory.SenderIssue, "words-protocol", ClassificationSignal.Words,
                Heard + ": an SMTP protocol or syntax problem between the mail servers, not the contact's fault.", words),
            WordMeaning.ListMembership => Certain(BounceCategory.SenderIssue, "words-list-members-only", ClassificationSignal.Words,
                Heard + ": a mailing list that takes posts from its members only refused our sender, not the contact's fault.", words),
            WordMeaning.RelayDenied => Certain(BounceCategory.SenderIssue, "words-relay-denied", ClassificationSignal.Words,
                Heard + ": the server will not relay for us (it does not serve this domain to us, or wants us to authenticate): our route or setup, not the contact's fault.", words),
            WordMeaning.SenderPolicy => Certain(BounceCategory.SenderIssue, "words-sender-policy", ClassificationSignal.Words,
                Heard + ": a policy or content refusal of our message, with no recipient-side cause named; not the contact's fault.", words),
            WordMeaning.Expired => GaveUp(f, "words-expired", ClassificationSignal.Words,
                Heard + ": a relay gave up after its retry window; the answers during the window were transient", words),
            WordMeaning.BlockedByRecipient => Ambiguous(BounceCategory.Blocked, "words-blocked-by-recipient", ClassificationSignal.Words,
                Heard + ": the recipient or its organisation refuses our messages.", words),
            WordMeaning.AccountDisabled => Certain(BounceCategory.HardBounce, "words-account-disabled", ClassificationSignal.Words,
                Heard + ": the mailbox is disabled, suspended or closed.", words),
            WordMeaning.Moved => Certain(BounceCategory.HardBounce, "words-moved", ClassificationSignal.Words,
                Heard + ": the address has moved and no longer takes mail.", words),
            WordMeaning.DomainUnknown => Certain(BounceCategory.HardBounce, "words-domain-unknown", ClassificationSignal.Words,
                Heard + ": the address's domain does not exist or does not take mail.", words),
            WordMeaning.UserUnknown => Certain(BounceCategory.HardBounce, "words-user-unknown", ClassificationSignal.Words,
                Heard + ": the mailbox does not exist.", words),
            WordMeaning.MailboxFull => MailboxFull(f, "words-mailbox-full", ClassificationSignal.Words, Heard + ": the mailbox is full", words),
            WordMeaning.RecipientBusy => Certain(BounceCategory.SoftBounce, "words-recipient-busy", ClassificationSignal.Words,
                Heard + ": the recipient's system is busy, receiving too fast or looping; it may take the message later.", words),
            WordMeaning.Greylisted => Certain(BounceCategory.SoftBounce, "words-greylisted", ClassificationSignal.Words,
                Heard + ": greylisting, the server asks to come back later by design.", words),
            _ => null,
        };
    }

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
}
