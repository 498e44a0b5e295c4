using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MailgunFunctions.Telemetry;

/// <summary>
/// The product's own metrics, on one <see cref="Meter"/> named <see cref="MeterName"/>, every measurement tagged with the
/// tenant (docs/operations.md#metrics). Metrics are aggregated in the process and exported once a minute, so they are exact
/// whatever the trace sampling: they are what an alert on a rate can rely on. Without a listener (tests, local runs, the
/// CLI) a measurement costs a check of a flag.
/// </summary>
public sealed class MailgunMetrics
{
    /// <summary>The meter's name: what an exporter subscribes to.</summary>
    public const string MeterName = "MailgunFunctions";

    /// <summary>The tag naming the tenant on every instrument.</summary>
    public const string TenantTag = "tenant";

    private readonly Counter<long> _eventsAccepted;
    private readonly Counter<long> _dndChanges;
    private readonly Counter<long> _poisoned;
    private readonly Counter<long> _senderIssues;
    private readonly Counter<long> _exportJobs;
    private readonly Gauge<long> _notificationBacklog;
    private readonly Gauge<long> _review;

    public MailgunMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        // Created by the factory: each container has its own meter (the tests' listeners see their own), still named MeterName.
        var meter = meters.Create(MeterName);
        _eventsAccepted = meter.CreateCounter<long>("mailgun.webhook.events_accepted", "{event}",
            "Events the webhook verified and queued (answered 200), by tenant and event type.");
        _dndChanges = meter.CreateCounter<long>("mailgun.dnd.changes", "{change}",
            "DND entries changed by processing a Mailgun event, by tenant, category and the entry's new state.");
        _poisoned = meter.CreateCounter<long>("mailgun.events.poisoned", "{message}",
            "Event messages that can never be processed, moved to mailgun-events-poison by the processor, by tenant (empty when unknown) and reason.");
        _senderIssues = meter.CreateCounter<long>("mailgun.sender_issues", "{event}",
            "Sender-side failures (our authentication, reputation, rate or content), by tenant and rule; each event once.");
        _exportJobs = meter.CreateCounter<long>("mailgun.export.jobs", "{job}",
            "Nightly export jobs by tenant and outcome (completed, failed, continued, unreadable, retried).");
        _notificationBacklog = meter.CreateGauge<long>("mailgun.notifications.backlog", "{change}",
            "DND changes recorded but not dispatched after the sweep delay, per tenant, as the change-feed sweeper found them.");
        _review = meter.CreateGauge<long>("mailgun.export.review", "{entry}",
            "The nightly reconciliation of a tenant's domain: DND entries not suppressed by Mailgun to review (kind=to_review), suppressions applied from Mailgun (applied), records new at Mailgun since the previous export (new_at_mailgun).");
    }

    public void EventAccepted(string tenant, string eventType) =>
        _eventsAccepted.Add(1, new TagList { { TenantTag, tenant }, { "event_type", eventType } });

    public void DndChanged(string tenant, string category, string state) =>
        _dndChanges.Add(1, new TagList { { TenantTag, tenant }, { "category", category }, { "state", state } });

    public void EventPoisoned(string? tenant, string reason) =>
        _poisoned.Add(1, new TagList { { TenantTag, tenant ?? "" }, { "reason", reason } });

    public void SenderIssue(string tenant, string rule) =>
        _senderIssues.Add(1, new TagList { { TenantTag, tenant }, { "rule", rule } });

    public void ExportJob(string? tenant, string outcome) =>
        _exportJobs.Add(1, new TagList { { TenantTag, tenant ?? "" }, { "outcome", outcome } });

    public void ExportReview(string tenant, string domain, long toReview, long applied, long newAtMailgun)
    {
        foreach (var (kind, value) in new[] { ("to_review", toReview), ("applied", applied), ("new_at_mailgun", newAtMailgun) })
        {
            _review.Record(value, new TagList { { TenantTag, tenant }, { "domain", domain }, { "kind", kind } });
        }
    }

    public void NotificationBacklog(string tenant, long pending) =>
        _notificationBacklog.Record(pending, new KeyValuePair<string, object?>(TenantTag, tenant));
}

/// <summary>Registers <see cref="MailgunMetrics"/> (and the meter factory it needs) once, for every feature that measures.</summary>
public static class TelemetryRegistration
{
    public static IServiceCollection AddMailgunMetrics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton<MailgunMetrics>();
        return services;
    }
}
