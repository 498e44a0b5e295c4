using System.ComponentModel.DataAnnotations;

namespace MailgunFunctions.Classification;

/// <summary>
/// Switches for the places where the platform's documented DND rules and the RFCs disagree (section "Classifier").
/// The defaults follow the platform; docs/classification.md lists what each switch changes.
/// </summary>
public sealed class ClassifierOptions
{
    public const string Section = "Classifier";

    /// <summary>
    /// Mailbox full (552, X.2.2, "over quota" words in a 5xx answer) is a hard bounce with a permanent DND.
    /// Default <c>true</c>: the platform documents "552 mailbox full" as a hard bounce, although RFC 3463 calls
    /// X.2.2 transient and RFC 5321 lets 552 be retried. <c>false</c> makes it a soft bounce (temporary DND).
    /// A 4xx over-quota answer (Gmail's <c>452 4.2.2</c>) is a soft bounce either way.
    /// </summary>
    public bool MailboxFullIsPermanent { get; set; } = true;

    /// <summary>
    /// Twilio carrier codes 30005 (unknown or inactive number) and 30006 (landline or unreachable carrier) are
    /// soft bounces with a temporary DND. Default <c>true</c>: the platform documents them as soft, although Twilio
    /// calls them permanent failures. <c>false</c> makes them hard bounces (permanent DND).
    /// </summary>
    public bool CarrierUnknownNumberIsSoft { get; set; } = true;

    /// <summary>
    /// An expiry is a hard bounce with a permanent DND: Mailgun gave up after its retry window (<c>reason: old</c>,
    /// codes 602/616) without a permanent answer from the server, or a relay says it gave up (X.4.7 in a final failure,
    /// "retry timeout exceeded", "could not be delivered for N hours", "gave up"). Default <c>false</c>: every answer
    /// during the window was transient, so the mailbox may well be fine; it is a soft bounce (temporary DND). <c>true</c>
    /// follows the platform's general "permanent failure, permanent DND" rule literally. A sender-side cause named in
    /// the same answer still gives no DND.
    /// </summary>
    public bool GaveUpAfterRetriesIsPermanent { get; set; }

    /// <summary>
    /// How many characters of each response text (message, description, last message) are searched for words
    /// and enhanced codes. Default 4096: real answers are a few hundred characters; the cap bounds the work a
    /// hostile or broken server's answer can cause.
    /// </summary>
    [Range(64, 65536)]
    public int MaxScannedCharacters { get; set; } = 4096;
}
