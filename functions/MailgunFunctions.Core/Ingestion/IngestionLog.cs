using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Ingestion;

/// <summary>Structured log events of the webhooks. Never log a signing key, the API key or a whole body.</summary>
internal static partial class IngestionLog
{
    [LoggerMessage(1001, LogLevel.Information, "Mailgun {EventType} event {EventId} of tenant {Tenant} {Outcome} in {ElapsedMs:F1} ms (key {SigningKeyId})")]
    public static partial void EventQueued(ILogger logger, string eventType, string eventId, string tenant, string outcome, double elapsedMs, string signingKeyId);

    [LoggerMessage(1002, LogLevel.Warning, "Mailgun webhook rejected with {StatusCode} {Reason}: {Detail}")]
    public static partial void Rejected(ILogger logger, int statusCode, string reason, string? detail);

    [LoggerMessage(1003, LogLevel.Warning, "SECURITY: webhook token {TokenHash} replayed with a different body (event {EventId}); rejected")]
    public static partial void TokenReplayed(ILogger logger, string tokenHash, string eventId);

    [LoggerMessage(1004, LogLevel.Error, "Storage unavailable while queueing Mailgun {EventType} event {EventId}; answered 503 so Mailgun retries")]
    public static partial void StorageUnavailable(ILogger logger, Exception exception, string eventType, string eventId);

}
