using System.Globalization;

namespace MailgunFunctions.Classification;

// The final checks and the explanation: what decided, and every signal that pointed elsewhere and lost.
public sealed partial class BounceClassifier
{
    private Classification Finish(Verdict v, in Facts f)
    {
        var category = v.Category;
        string rule = v.Rule;
        var signal = v.Signal;

        // espblock: Mailgun recognised a mailbox provider's block of our sending. It is never enough alone, but it
        // settles a refusal whose code and words could mean either side.
        bool espblock = v.Ambiguous && category is BounceCategory.HardBounce or BounceCategory.Blocked && f.ReasonIs("espblock");
        if (espblock)
        {
            category = BounceCategory.SenderIssue;
            rule = "reason-espblock";
            signal = ClassificationSignal.Reason;
        }

        // Mailgun retries transient failures, and the outcome may still be a delivery: no permanent DND on them
        // unless the platform documents one.
        string? transient = null;
        if (!v.PlatformRule && category is BounceCategory.HardBounce or BounceCategory.Blocked && (f.TransientCode || f.SeverityIs("temporary")))
        {
            category = BounceCategory.SoftBounce;
            transient = f.TransientCode ? "4xx code" : "severity temporary";
        }

        return new Classification(category, rule, new Explainer(this, v, f, category, espblock, transient))
        {
            Code = f.Code ?? (f.SmtpCode == 0 ? null : f.SmtpCode),
            EnhancedCode = f.EnhancedText,
            Signal = signal,
        };
    }

    /// <summary>
    /// The texts of a failure's classification, written when first read from what decided it (<see cref="Finish"/>):
    /// the rule's explanation, the final checks that changed it, and what it outranked.
    /// </summary>
    private sealed class Explainer(BounceClassifier classifier, Verdict verdict, in Facts facts, BounceCategory decided, bool espblock, string? transient)
        : DeferredExplanation
    {
        private readonly Facts _facts = facts;

        protected override ExplanationText Write()
        {
            var v = verdict;
            string explanation = espblock
                ? $"Mailgun's reason espblock: the mailbox provider blocks our sending, and the answer names no recipient-side cause (rule {v.Rule} alone would have said {v.Category.ToProductName()}); not the contact's fault."
                : v.Explained;
            if (transient is not null)
            {
                explanation = $"{explanation} The failure is transient ({transient}), so only a temporary DND.";
            }

            string? outranked = classifier.Outranked(v, _facts, decided);
            if (outranked is not null)
            {
                explanation = $"{explanation} It outranks {outranked}.";
            }

            return new ExplanationText(explanation, v.Words.Text ?? _facts.Words.Best.Text, outranked);
        }
    }

    /// <summary>
    /// The signals of the answer that would have meant something else for the contact, had they decided: the code read
    /// alone, the words of the other cause groups, and the severity. Null when nothing pointed elsewhere. "Something else"
    /// is another <see cref="Meaning"/>: the classifier compares what the signals say about the contact, never DND states.
    /// </summary>
    private string? Outranked(in Verdict v, in Facts f, BounceCategory decided)
    {
        var meaning = Meaning(decided);
        if (v.Signal is ClassificationSignal.MailgunCode or ClassificationSignal.CarrierCode || v.PlatformRule && v.Signal == ClassificationSignal.Words && v.Words is { Found: true, Meaning: WordMeaning.PreviouslyBounced or WordMeaning.Unsubscribed or WordMeaning.Complained })
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
            if (words.Found && words.Rank != v.Words.Rank && MeaningOf(group) is { } natural && natural != meaning)
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
}
