using Microsoft.Extensions.Logging;

namespace MailgunFunctions.ChangeFeed;

/// <summary>Structured log events of the change feed (ids 14001-14099). Addresses never appear: notices are named by tenant, address hash and version.</summary>
internal static partial class ChangeFeedLog
{
    [LoggerMessage(14001, LogLevel.Warning, "DND change {Tenant}/{AddressHash} v{Version} is recorded but could not be dispatched now ({Error}); the sweeper sends it within minutes")]
    public static partial void DispatchFailed(ILogger logger, Exception exception, string tenant, string addressHash, long version, string error);

    [LoggerMessage(14002, LogLevel.Debug, "DND change {Tenant}/{AddressHash} v{Version} delivered to {Host} (attempt {Attempt})")]
    public static partial void Delivered(ILogger logger, string tenant, string addressHash, long version, string host, int attempt);

    [LoggerMessage(14003, LogLevel.Warning, "DND change {Tenant}/{AddressHash} v{Version}: POST to {Host} failed ({Error}) on attempt {Attempt}; next attempt at {DueAt:u}")]
    public static partial void DeliveryFailed(ILogger logger, string tenant, string addressHash, long version, string host, string error, int attempt, DateTimeOffset dueAt);

    [LoggerMessage(14004, LogLevel.Error, "NOTIFICATION DEAD-LETTERED: DND change {Tenant}/{AddressHash} v{Version} could not be delivered to {Host} for {RetriedFor} ({Attempts} attempts, last: {Error}); mailgun-ops notifications replay --tenant {Tenant}")]
    public static partial void DeadLettered(ILogger logger, string tenant, string addressHash, long version, string host, TimeSpan retriedFor, int attempts, string error);

    [LoggerMessage(14005, LogLevel.Information, "Sweeper re-dispatched {Count} DND changes left undispatched (a stopped instance, or storage failing at the time)")]
    public static partial void Swept(ILogger logger, int count);

    [LoggerMessage(14006, LogLevel.Information, "Expiry: {Expired} temporary DNDs ended and were announced, {Checked} index rows checked, {Left} left for the next run")]
    public static partial void Expired(ILogger logger, int expired, int @checked, int left);

    [LoggerMessage(14007, LogLevel.Warning, "Expiry of {Tenant}/{AddressHash} failed ({Error}); its index row stays for the next run")]
    public static partial void ExpiryFailed(ILogger logger, Exception exception, string tenant, string addressHash, string error);

    [LoggerMessage(14008, LogLevel.Warning, "Platform endpoint of tenant {Tenant} is failing ({Error}); its notifications wait until {RetryAt:u} and go through the retry queue")]
    public static partial void EndpointFailing(ILogger logger, string tenant, string error, DateTimeOffset retryAt);

    [LoggerMessage(14009, LogLevel.Information, "Tenant {Tenant} has no notification URL any more: dropped the queued POST of {AddressHash} v{Version} (the dnd-changes queue had it)")]
    public static partial void TargetGone(ILogger logger, string tenant, string addressHash, long version);

    [LoggerMessage(14010, LogLevel.Warning, "Confirming {Count} dispatched DND changes failed ({Error}); the sweeper will send them again (receivers drop the repeats by version)")]
    public static partial void ConfirmFailed(ILogger logger, Exception exception, int count, string error);

    [LoggerMessage(14011, LogLevel.Information, "Change log purge: {Deleted} change rows older than {Cutoff:u} deleted")]
    public static partial void Purged(ILogger logger, int deleted, DateTimeOffset cutoff);

    [LoggerMessage(14012, LogLevel.Warning, "Sweeper could not read the pending changes of tenant {Tenant} ({Error}); the next run tries again")]
    public static partial void SweepFailed(ILogger logger, Exception exception, string tenant, string error);

    [LoggerMessage(14013, LogLevel.Information, "Replayed {Count} dead-lettered notifications of tenant {Tenant}")]
    public static partial void Replayed(ILogger logger, int count, string tenant);

    [LoggerMessage(14014, LogLevel.Warning, "Platform API: {Method} {Route} for tenant {Tenant} refused with {Status} {ProblemType}")]
    public static partial void ApiRefused(ILogger logger, string method, string route, string tenant, int status, string problemType);

    [LoggerMessage(14015, LogLevel.Information, "Platform API: re-enable of {Tenant}/{AddressHash} by api:{Operator} ({Outcome}, override {Override})")]
    public static partial void ApiReenabled(ILogger logger, string tenant, string addressHash, string @operator, string outcome, bool @override);

    [LoggerMessage(14016, LogLevel.Information, "Mailgun unsubscribe list of {Domain} (tenant {Tenant}) for {AddressHash} v{Version}: {Outcome}")]
    public static partial void MailgunUnsubscribe(ILogger logger, string tenant, string domain, string addressHash, long version, string outcome);

    [LoggerMessage(14017, LogLevel.Warning, "Mailgun unsubscribe message for tenant {Tenant} skipped: {Reason}")]
    public static partial void MailgunUnsubscribeSkipped(ILogger logger, string tenant, string reason);
}
