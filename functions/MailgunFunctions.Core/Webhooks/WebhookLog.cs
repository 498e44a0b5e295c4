using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Webhooks;

/// <summary>
/// Structured log events of the webhook authentication shared by both webhooks (ids in the ingestion range 10xx).
/// Never log a signing key, the API key or a whole body.
/// </summary>
internal static partial class WebhookLog
{
    [LoggerMessage(1005, LogLevel.Information, "Dropped the expired webhook token table {Table}")]
    public static partial void TokenTableDropped(ILogger logger, string table);

    [LoggerMessage(1006, LogLevel.Warning, "Could not drop expired webhook token tables; the next day's first claim tries again")]
    public static partial void TokenTableDropFailed(ILogger logger, Exception exception);

    [LoggerMessage(1007, LogLevel.Error, "The tenant registry could not be read for tenant {Tenant}; answered 503 so Mailgun retries")]
    public static partial void TenantLookupFailed(ILogger logger, Exception exception, string tenant);
}
