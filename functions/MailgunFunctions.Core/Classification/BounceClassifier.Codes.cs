using System.Globalization;

namespace MailgunFunctions.Classification;

// Code reading: Mailgun's and the carriers' codes (step 1), the enhanced and basic SMTP codes (steps 2 and 3).
public sealed partial class BounceClassifier
{
    /// <summary>(3) No stated cause: the exact codes, then the general words, then the codes by class, then the basic code.</summary>
    private Verdict? FromCodes(in Facts f) =>
        AddressCode(f) ?? GeneralWords(f) ?? GeneralEnhancedCode(f) ?? FromSmtpCode(f);

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
                bool unknown = f.Code == 30005;
                return Platform(soft ? BounceCategory.SoftBounce : BounceCategory.HardBounce, unknown ? "carrier-30005" : "carrier-30006", ClassificationSignal.CarrierCode,
                    unknown ? "Carrier code 30005: unknown or inactive number" : "Carrier code 30006: landline or unreachable carrier")
                    with
                    {
                        Tail = soft
                            ? "; the platform documents it as a soft bounce (Classifier:CarrierUnknownNumberIsSoft=true)."
                            : "; a permanent failure as Twilio defines it (Classifier:CarrierUnknownNumberIsSoft=false).",
                    };
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
                return MailboxFull(f, "enhanced-x.2.2-mailbox-full", ClassificationSignal.EnhancedCode, "Enhanced code {0}: the mailbox is full", arg: f.EnhancedText);
            case (4, 7) when permanent:
                return GaveUp(f, "enhanced-x.4.7-expired", ClassificationSignal.EnhancedCode,
                    "Enhanced code {0}: delivery time expired, a relay gave up after retrying (RFC 3463 X.4.7)", arg: f.EnhancedText);
            default:
                return null;
        }
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
                "SMTP code {0}: a transient failure (RFC 5321 4yz); Mailgun retries.", arg: f.SmtpCodeText);
        }

        return code switch
        {
            >= 500 and <= 504 => Certain(BounceCategory.SenderIssue, "smtp-50x-protocol", ClassificationSignal.SmtpCode,
                "SMTP code {0}: a command syntax or sequence error between the mail servers (RFC 5321), not the contact's fault.", arg: f.SmtpCodeText),
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
                "SMTP code {0}: a permanent failure (RFC 5321 5yz) with no more specific code or words.", arg: f.SmtpCodeText),
        };
    }
}
