using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Processing;

/// <summary>Structured log events of the queue processing. Never log a whole message or event body.</summary>
internal static partial class ProcessingLog
{
    [LoggerMessage(2001, LogLevel.Error, "Queue message {MessageHash} can never be processed ({Reason}: {Detail}); moved to mailgun-events-poison at once (dequeue count {DequeueCount})")]
    public static partial void Poisoned(ILogger logger, string messageHash, string reason, string detail, long dequeueCount);

    [LoggerMessage(2002, LogLevel.Information, "Mailgun {EventType} event {EventId} for tenant {Tenant}: {Category} by rule {Rule} -> {Outcome}")]
    public static partial void Processed(ILogger logger, string eventType, string eventId, string tenant, string category, string rule, string outcome);

    [LoggerMessage(2003, LogLevel.Debug, "Mailgun {EventType} event {EventId} has nothing to record")]
    public static partial void Skipped(ILogger logger, string eventType, string eventId);

    [LoggerMessage(2004, LogLevel.Warning, "Mailgun event message failed on attempt {DequeueCount} (the host retries, then moves it to mailgun-events-poison)")]
    public static partial void TransientFailure(ILogger logger, Exception exception, long dequeueCount);

    [LoggerMessage(2006, LogLevel.Information, "An event of tenant {Tenant} on storage shard {FromShard} was forwarded to the tenant's shard {ToShard} (the tenant was moved after it was queued)")]
    public static partial void ForwardedToShard(ILogger logger, string tenant, int fromShard, int toShard);

    [LoggerMessage(2005, LogLevel.Warning, "Mailgun {EventType} event {EventId} of tenant {Tenant} comes from domain {Domain}, which the tenant has not registered; applied to the tenant (its key signed it). Add the domain: mailgun-ops tenant add-domain")]
    public static partial void DomainNotRegistered(ILogger logger, string eventType, string eventId, string tenant, string domain);
}
