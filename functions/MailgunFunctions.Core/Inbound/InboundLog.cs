using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Inbound;

/// <summary>Structured log events of inbound replies. Never a signing key, a body or a reply's text.</summary>
internal static partial class InboundLog
{
    [LoggerMessage(5001, LogLevel.Information, "Inbound message {MessageId} for {Tenant} ({Bytes} bytes) {Outcome} in {ElapsedMs:F1} ms (key {SigningKeyId})")]
    public static partial void Queued(ILogger logger, string messageId, string tenant, long bytes, string outcome, double elapsedMs, string signingKeyId);

    [LoggerMessage(5002, LogLevel.Warning, "Mailgun inbound post rejected with {StatusCode} {Reason}: {Detail}")]
    public static partial void Rejected(ILogger logger, int statusCode, string reason, string? detail);

    [LoggerMessage(5003, LogLevel.Warning, "SECURITY: webhook token {TokenHash} replayed with a different inbound body (message {MessageId}); rejected")]
    public static partial void TokenReplayed(ILogger logger, string tokenHash, string messageId);

    [LoggerMessage(5004, LogLevel.Error, "Storage unavailable while storing inbound message {MessageId}; answered 503 so Mailgun retries")]
    public static partial void StorageUnavailable(ILogger logger, Exception exception, string messageId);

    [LoggerMessage(5005, LogLevel.Warning, "Inbound message {MessageId} is stored and queued but its token could not be marked queued; a retry will queue it again (processing is idempotent)")]
    public static partial void MarkQueuedFailed(ILogger logger, Exception exception, string messageId);

    [LoggerMessage(5006, LogLevel.Information, "Reply {ReplyId} for {Tenant}: {Kind}, threaded {Threaded}, unsubscribe {Unsubscribe}, bounces {Bounces}, stored {Outcome}")]
    public static partial void Processed(ILogger logger, string replyId, string tenant, ReplyKind kind, bool threaded, bool unsubscribe, int bounces, string outcome);

    [LoggerMessage(5007, LogLevel.Error, "Inbound queue message {QueueMessageId} can never be processed ({Reason}: {Detail}); moved to the poison queue")]
    public static partial void Poisoned(ILogger logger, string queueMessageId, string reason, string detail);

    [LoggerMessage(5008, LogLevel.Warning, "Reply {ReplyId} asks to unsubscribe but is flagged as spam by Mailgun; recorded without a DND")]
    public static partial void SpamUnsubscribeIgnored(ILogger logger, string replyId);

    [LoggerMessage(5010, LogLevel.Warning, "Reply {ReplyId} in {Tenant} asks to unsubscribe, but nothing shows it comes from its From address (it answers no message we sent there, and Mailgun's SPF/DKIM did not pass for its domain): stored for review (UnsubscribeState review), no DND")]
    public static partial void UnsubscribeForReview(ILogger logger, string replyId, string tenant);

    [LoggerMessage(5012, LogLevel.Information, "A reply of tenant {Tenant} on storage shard {FromShard} was forwarded to the tenant's shard {ToShard} (the tenant was moved after it was queued)")]
    public static partial void ForwardedToShard(ILogger logger, string tenant, int fromShard, int toShard);

    [LoggerMessage(5011, LogLevel.Warning, "Reply {ReplyId} in {Tenant}: the raw message has {Limit}; stored from its top-level headers and Mailgun's fields only (the raw payload keeps everything)")]
    public static partial void ReadLimited(ILogger logger, string replyId, string tenant, string limit);

    [LoggerMessage(5009, LogLevel.Warning, "Bounce report {ReplyId} in {Tenant} changes no DND: it {Why} (stored as a reply for review)")]
    public static partial void BounceReportNotApplied(ILogger logger, string replyId, string tenant, string why);
}
