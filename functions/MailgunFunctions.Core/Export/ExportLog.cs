using Microsoft.Extensions.Logging;

namespace MailgunFunctions.Export;

/// <summary>Structured log events of the suppression export. Never log addresses in bulk, the API key or whole CSVs.</summary>
internal static partial class ExportLog
{
    [LoggerMessage(7001, LogLevel.Information, "Suppression export {Domain} {Date}: {List} already completed ({Records} records), skipped")]
    public static partial void ListSkipped(ILogger logger, string domain, string date, string list, long records);

    [LoggerMessage(7002, LogLevel.Information, "Suppression export {Domain} {Date}: {List} started (attempt {Attempt})")]
    public static partial void ListStarted(ILogger logger, string domain, string date, string list, int attempt);

    [LoggerMessage(7010, LogLevel.Information, "Suppression export {Domain} {Date}: {List} resumed from its checkpoint after {Records} records (attempt {Attempt})")]
    public static partial void ListResumed(ILogger logger, string domain, string date, string list, int attempt, long records);

    [LoggerMessage(7011, LogLevel.Information, "Suppression export {Domain} {Date}: already completed, skipped")]
    public static partial void DomainSkipped(ILogger logger, string domain, string date);

    [LoggerMessage(7003, LogLevel.Information, "Suppression export {Domain} {Date}: {List} completed with {Records} records into {Blob}")]
    public static partial void ListCompleted(ILogger logger, string domain, string date, string list, long records, string blob);

    [LoggerMessage(7004, LogLevel.Error, "Suppression export {Domain} {Date}: {List} failed after {Records} records; a rerun redoes it")]
    public static partial void ListFailed(ILogger logger, Exception exception, string domain, string date, string list, long records);

    [LoggerMessage(7005, LogLevel.Information,
        "Suppression export summary {Domain} {Date}: bounces {Bounces}, complaints {Complaints}, unsubscribes {Unsubscribes}, allowlist {Allowlist}, " +
        "new since {PreviousExport}: {NewSincePrevious}, reconciliation {Reconciliation} (applied {ReconciledApplied}, already DND {ReconciledAlreadyDnd}, review {ReconciledReview}); {SummaryJson}")]
    public static partial void Summary(ILogger logger, string domain, string date, long bounces, long complaints, long unsubscribes, long allowlist,
        string? previousExport, long? newSincePrevious, string reconciliation, long? reconciledApplied, long? reconciledAlreadyDnd, long? reconciledReview, string summaryJson);

    [LoggerMessage(7006, LogLevel.Warning, "Suppression export {Domain} {Date}: no reconciler is registered; Mailgun's lists are exported but not compared with the DND table")]
    public static partial void ReconciliationNotConfigured(ILogger logger, string domain, string date);

    [LoggerMessage(7007, LogLevel.Error, "Suppression export {Domain} {Date} failed")]
    public static partial void DomainFailed(ILogger logger, Exception exception, string domain, string date);

    [LoggerMessage(7008, LogLevel.Warning, "Suppression export {Date}: no tenant has a domain to export (mailgun-ops tenant connect, or MailgunApi__Domains__0__Name for the single account); nothing to export")]
    public static partial void NoDomains(ILogger logger, string date);

    [LoggerMessage(7009, LogLevel.Warning, "Suppression export {Domain} {Date}: could not record the failure in ExportRuns")]
    public static partial void StatusNotSaved(ILogger logger, Exception exception, string domain, string date);

    [LoggerMessage(7020, LogLevel.Information, "Suppression export {Date}: {Jobs} jobs queued for {Tenants} tenants in {ElapsedMs} ms")]
    public static partial void JobsQueued(ILogger logger, string date, int jobs, int tenants, long elapsedMs);

    [LoggerMessage(7021, LogLevel.Error, "Suppression export {Domain} {Date} failed and is not retried: {Error}")]
    public static partial void ScopeFailed(ILogger logger, string domain, string date, string error);

    [LoggerMessage(7022, LogLevel.Warning, "Suppression export {Domain} {Date} failed on delivery {DequeueCount}; the host retries the job (maxDequeueCount), then moves it to poison")]
    public static partial void ScopeRetried(ILogger logger, Exception exception, string domain, string date, long dequeueCount);

    [LoggerMessage(7023, LogLevel.Error, "Suppression export job cannot be read ({Problem}): moved to suppression-export-jobs-poison")]
    public static partial void JobUnreadable(ILogger logger, string problem);

    [LoggerMessage(7025, LogLevel.Information, "Suppression export {Domain} {Date}: the tenant is being moved between storage shards; the job waits {Delay} and runs on its shard")]
    public static partial void ScopeDeferred(ILogger logger, string domain, string date, TimeSpan delay);

    [LoggerMessage(7024, LogLevel.Information, "Suppression export {Domain} {Date}: time budget of {Budget} used; continues in a new job (continuation {Continuation})")]
    public static partial void ScopeContinued(ILogger logger, string domain, string date, TimeSpan budget, int continuation);

    [LoggerMessage(7030, LogLevel.Information,
        "Nightly review {Tenant} {Domain} {Date}: {ToReview} DND entries here not suppressed by Mailgun to review, {AppliedFromMailgun} suppressions applied from Mailgun, {NewAtMailgun} new at Mailgun since {PreviousExport}; report {Report}")]
    public static partial void NightlyReview(ILogger logger, string tenant, string domain, string date, long toReview, long appliedFromMailgun, long? newAtMailgun, string? previousExport, string report);

    [LoggerMessage(7031, LogLevel.Warning, "Nightly review {Tenant} {Domain} {Date}: the review webhook was not reached ({Problem}); the report stays in Blob Storage")]
    public static partial void NightlyReviewNotSent(ILogger logger, Exception? exception, string tenant, string domain, string date, string problem);
}
