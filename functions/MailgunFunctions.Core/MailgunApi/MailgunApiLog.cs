using Microsoft.Extensions.Logging;

namespace MailgunFunctions.MailgunApi;

/// <summary>Structured log events of the Mailgun API client. Never log the API key or the Authorization header.</summary>
internal static partial class MailgunApiLog
{
    [LoggerMessage(6001, LogLevel.Information, "Mailgun {Domain} {Resource}: page {Page} read with {Count} items ({Total} so far)")]
    public static partial void PageRead(ILogger logger, string domain, string resource, int page, int count, long total);

    [LoggerMessage(6002, LogLevel.Warning, "Mailgun {Domain} {Resource}: paging.next repeats a page already read ({Path}); stopping to avoid a loop")]
    public static partial void RepeatedPage(ILogger logger, string domain, string resource, string path);

    [LoggerMessage(MailgunApiClient.RetryLogEventId, LogLevel.Warning, "Mailgun API {Method} {Path} answered {Outcome}; retry {Attempt} in {DelayMs} ms")]
    public static partial void Retrying(ILogger logger, string method, string path, string outcome, int attempt, double delayMs);

    [LoggerMessage(6004, LogLevel.Information, "Mailgun {Domain}: one address removed from {List} ({Outcome})")]
    public static partial void Deleted(ILogger logger, string domain, string list, string outcome);
}
