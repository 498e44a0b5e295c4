namespace MailgunFunctions.Inbound;

/// <summary>What a reply is: only <see cref="Human"/> replies are read for intent.</summary>
public enum ReplyKind
{
    /// <summary>Written by a person.</summary>
    Human,
    /// <summary>Out of office, vacation, auto-responder: recorded, never acted on.</summary>
    AutoReply,
    /// <summary>A delivery status notification (bounce) that arrived at the reply address.</summary>
    Bounce,
}

public sealed record ReplyAttachment(string Name, long Size);

/// <summary>A reply as the platform keeps it. Built by <see cref="ReplyReader"/> from the stored payload; threading is filled in by <see cref="InboundProcessor"/>.</summary>
public sealed record ReplyRecord
{
    /// <summary>SHA-256 of the post as received: the same for every delivery of one post, so storage is idempotent.</summary>
    public required string ReplyId { get; init; }

    /// <summary>The receiving domain: domain of the route's recipient, lower-cased.</summary>
    public required string Tenant { get; init; }

    /// <summary>When Mailgun signed the post (not our clock: a retry must give the same key).</summary>
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>"parsed" (Mailgun's fields) or "mime" (raw MIME route).</summary>
    public required string Format { get; init; }

    /// <summary>The sender's address (From header), lower-cased.</summary>
    public string? From { get; init; }

    /// <summary>The route recipient: the address the reply was sent to.</summary>
    public string? To { get; init; }

    public string? Subject { get; init; }
    public DateTimeOffset? Date { get; init; }

    /// <summary>Message ids without angle brackets.</summary>
    public string? MessageId { get; init; }
    public string? InReplyTo { get; init; }
    public IReadOnlyList<string> References { get; init; } = [];

    /// <summary>The reply's own words, without quoted history or signature.</summary>
    public string NewText { get; init; } = "";

    /// <summary>"mailgun" when Mailgun's stripped-text was used, "plain" / "html" when our own stripping was.</summary>
    public string TextSource { get; init; } = "plain";

    /// <summary>The first attachments (at most <see cref="InboundForm.MaxAttachmentsKept"/>).</summary>
    public IReadOnlyList<ReplyAttachment> Attachments { get; init; } = [];

    /// <summary>Every attachment of the reply, also those not described in <see cref="Attachments"/>.</summary>
    public int AttachmentCount { get; init; }

    /// <summary>
    /// Set when the raw message broke a <see cref="MimeLimits"/> limit ("more than 1000 MIME parts"...): the reply was read from
    /// its top-level headers and Mailgun's fields only; the raw payload keeps everything.
    /// </summary>
    public string? ReadLimit { get; init; }
    /// <summary>Whether any copy of Mailgun's <c>X-Mailgun-Sflag</c> says Yes.</summary>
    public bool IsSpam { get; init; }
    public double? SpamScore { get; init; }
    public ReplyKind Kind { get; init; }
    public string? AutoReplyReason { get; init; }

    /// <summary>For <see cref="ReplyKind.Bounce"/>: the recipient blocks of the delivery-status part.</summary>
    public IReadOnlyList<RecipientStatus> DeliveryStatus { get; init; } = [];

    /// <summary>For a bounce: the Message-Id of our message it returns (from its text/rfc822-headers or message/rfc822 part).</summary>
    public string? ReturnedMessageId { get; init; }

    /// <summary>For a human reply asking to unsubscribe: the line that asked.</summary>
    public string? UnsubscribeLine { get; init; }

    /// <summary>"dkim" or "spf" when Mailgun authenticated the message for its From domain (<see cref="SenderAuthentication"/>).</summary>
    public string? SenderAuthenticatedBy { get; init; }

    /// <summary>
    /// What shows the reply comes from its From address: "threaded" (it answers a message we sent to that address), "dkim" or
    /// "spf" (Mailgun's verdict for the From domain); null when nothing does. Set by <see cref="InboundProcessor"/>.
    /// </summary>
    public string? SenderVerifiedBy { get; init; }

    /// <summary>
    /// For an unsubscribe request: "applied" (DND set), "review" (nothing shows it comes from its From address: stored for a
    /// person to decide, no DND) or "spam" (Mailgun flagged it: no DND). Null when the reply asks nothing.
    /// </summary>
    public string? UnsubscribeState { get; init; }

    /// <summary>Set when the reply answers an outbound message we know (<see cref="IOutboundMessageLookup"/>).</summary>
    public string? OutboundMessageId { get; init; }
    public string? ContactId { get; init; }

    /// <summary>The address the threaded outbound message was sent to.</summary>
    public string? OutboundRecipient { get; init; }

    /// <summary>
    /// The addresses this reply concerns (its sender; a report's recipients), normalised, to which a message it threads to was
    /// sent: the only addresses it may change the DND of. Found by threading; not stored.
    /// </summary>
    public IReadOnlyList<string> ConfirmedRecipients { get; init; } = [];
    public bool IsThreaded => OutboundMessageId is not null;

    /// <summary>Blob name of the raw payload in <c>mailgun-inbound-raw</c>.</summary>
    public string RawBlob { get; init; } = "";

    /// <summary>Id given to the DND pipeline as the source of an action: stable across retries.</summary>
    public string SourceId => "mailgun-inbound:" + ReplyId;

    /// <summary>Ids to look up when threading: In-Reply-To first, then References from the newest.</summary>
    public IEnumerable<string> ThreadCandidates()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        // A DSN rarely has In-Reply-To, but it returns the headers of the message that bounced.
        IEnumerable<string> all = References.Reverse();
        all = InReplyTo is null ? all : all.Prepend(InReplyTo);
        all = ReturnedMessageId is null ? all : all.Prepend(ReturnedMessageId);
        foreach (string id in all)
        {
            if (seen.Add(id))
            {
                yield return id;
            }
        }
    }
}
