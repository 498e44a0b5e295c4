using System.ComponentModel.DataAnnotations;

namespace MailgunFunctions.Dnd;

/// <summary>The DND policy and its processing (section "Dnd").</summary>
public sealed class DndOptions
{
    public const string Section = "Dnd";

    /// <summary>
    /// How long a soft bounce keeps the address in temporary DND. Default 72 hours: Mailgun already retries a
    /// soft-bounced message for about 8 hours, so when we hear of it the mailbox has been failing for hours; a few
    /// days lets a full mailbox be emptied or a greylisting/outage clear before we try again, without silencing
    /// a good contact for long. A later delivery to the address ends it earlier.
    /// </summary>
    [Range(typeof(TimeSpan), "00:05:00", "30.00:00:00")]
    public TimeSpan TemporaryDuration { get; set; } = TimeSpan.FromHours(72);

    /// <summary>
    /// Number of distinct soft-bounced messages (Mailgun's retry attempts of one message count once) within
    /// <see cref="SoftBounceEscalationWindow"/> that make the DND permanent. Default 3: one or two soft bounces are
    /// ordinary (full mailbox, greylisting, a provider outage); three different messages failing in two weeks,
    /// each after Mailgun's own 8 hours of retries, means the mailbox is effectively dead.
    /// At most <see cref="DndEntry.SoftBounceCapacity"/> (the number of soft-bounced messages an entry keeps).
    /// </summary>
    [Range(2, DndEntry.SoftBounceCapacity)]
    public int SoftBounceEscalationCount { get; set; } = 3;

    /// <summary>
    /// The window in which <see cref="SoftBounceEscalationCount"/> soft-bounced messages escalate. Default 14 days:
    /// long enough to span a few weekly sends, short enough that soft bounces months apart never add up.
    /// </summary>
    [Range(typeof(TimeSpan), "01:00:00", "180.00:00:00")]
    public TimeSpan SoftBounceEscalationWindow { get; set; } = TimeSpan.FromDays(14);

    /// <summary>
    /// The <c>user-variables</c> key holding the platform's contact id (copied to the entry's <c>ContactId</c>).
    /// Default "contactId".
    /// </summary>
    [Required, MinLength(1)]
    public string ContactIdVariable { get; set; } = "contactId";

    /// <summary>
    /// Length of a sender-issue counting bucket. Default 10 minutes: a broken DKIM key or a blocklisted IP makes
    /// most sends fail within minutes, while a 10-minute bucket still collects enough events to see it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan SenderIssueBucket { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Sender-side failures of one tenant in one bucket above which a warning is logged (again at every further
    /// multiple). Default 25: a few sender-side rejections are normal noise; 25 in 10 minutes means a campaign is
    /// failing on our side, not on the contacts'.
    /// </summary>
    [Range(1, 1_000_000)]
    public int SenderIssueWarningThreshold { get; set; } = 25;

    /// <summary>Attempts of one optimistic-concurrency update (ETag) before the message is retried by the queue. Default 8.</summary>
    [Range(1, 50)]
    public int MaxWriteAttempts { get; set; } = 8;
}
