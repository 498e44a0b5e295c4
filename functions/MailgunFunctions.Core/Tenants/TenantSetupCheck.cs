using System.Text.RegularExpressions;
using MailgunFunctions.MailgunApi;

namespace MailgunFunctions.Tenants;

/// <summary>How one check came out: <see cref="Ok"/>, <see cref="Warn"/> (works, but not as the platform's guide asks) or <see cref="Fail"/>.</summary>
public static class SetupCheckStatus
{
    public const string Ok = "ok";
    public const string Warn = "warn";
    public const string Fail = "fail";
}

/// <summary>One line of a domain's set-up report: what was checked (<see cref="Area"/>, <see cref="Name"/>), how it came out, and what to do.</summary>
/// <param name="Area"><c>dns</c>, <c>verification</c>, <c>tracking</c>, <c>webhook</c> or <c>route</c>.</param>
public sealed record SetupCheckItem(string Area, string Name, string Status, string Detail);

/// <summary>Mailgun's side of one domain of a tenant, as <see cref="TenantSetupCheck"/> found it: the DNS records Mailgun expects are checked by the caller.</summary>
public sealed record DomainSetupReport(string Domain, MailgunDomainStatus Mailgun, IReadOnlyList<SetupCheckItem> Items);

/// <summary>
/// What <c>mailgun-ops setup check</c> asks Mailgun about one domain of a tenant, read only (except the optional
/// re-verification, which changes nothing but Mailgun's verdict): the domain's verification state, Mailgun's unsubscribe
/// tracking (the platform's guide keeps Mailgun's link and the platform's own both on), every webhook the product reads
/// (<see cref="MailgunSetup.Webhooks"/>) pointing at the tenant's events URL, and the tenant's reply route matching the
/// domain, forwarding to the tenant's inbound URL, then stopping (<see cref="MailgunSetup.ReplyRoute"/>).
/// </summary>
public sealed class TenantSetupCheck(MailgunApiClient api, MailgunSetup setup)
{
    /// <param name="verify">First ask Mailgun to check the DNS records again (<c>PUT /v4/domains/{d}/verify</c>).</param>
    public async Task<DomainSetupReport> CheckAsync(Tenant tenant, TenantDomain domain, bool verify, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ArgumentNullException.ThrowIfNull(domain);
        var target = tenant.MailgunDomain(domain);
        var status = verify
            ? await api.VerifyDomainAsync(target, cancellationToken).ConfigureAwait(false)
            : await api.GetDomainAsync(target, cancellationToken).ConfigureAwait(false);
        var items = new List<SetupCheckItem>
        {
            status.State == "active"
                ? new("verification", "state", SetupCheckStatus.Ok, "active: Mailgun verified the domain's DNS records")
                : new("verification", "state", SetupCheckStatus.Fail,
                    $"{status.State}: add the DNS records below, then ask Mailgun to check them again (setup check --verify)"),
        };

        var tracking = await api.GetTrackingAsync(target, cancellationToken).ConfigureAwait(false);
        items.Add(tracking.Unsubscribe
            ? new("tracking", "unsubscribe", SetupCheckStatus.Ok, "Mailgun's unsubscribe link is on")
            : new("tracking", "unsubscribe", SetupCheckStatus.Warn,
                "Mailgun's unsubscribe link is off: the platform's guide keeps it on beside the platform's own link (Mailgun: Sending > Domain settings > Tracking > Unsubscribes)"));

        var events = tenant.AppUrl is { } app ? TenantUrls.Events(app, tenant.Id) : null;
        var hooks = await api.GetWebhooksAsync(target, cancellationToken).ConfigureAwait(false);
        foreach (string webhook in MailgunSetup.Webhooks.Except(setup.Wanted, StringComparer.Ordinal))
        {
            // Engagement events not wanted here (Webhooks__EngagementEvents off): our URL on them only costs requests.
            if (events is not null && (hooks.GetValueOrDefault(webhook) ?? []).Any(u => MailgunSetup.SameEndpoint(u, events)))
            {
                items.Add(new("webhook", webhook, SetupCheckStatus.Warn,
                    $"points at the tenant's events URL although Webhooks__EngagementEvents is off (it changes no DND state): run setup webhooks to take it off"));
            }
        }

        foreach (string webhook in setup.Wanted)
        {
            var urls = hooks.GetValueOrDefault(webhook) ?? [];
            items.Add(urls.Count == 0 ? new("webhook", webhook, SetupCheckStatus.Fail, $"missing: run tenant connect --tenant {tenant.Id} (or setup webhooks)")
                : events is null ? new("webhook", webhook, SetupCheckStatus.Warn, $"present, but the tenant's app URL is not set (tenant set --tenant {tenant.Id} --app-url): which tenant it reaches is not checked")
                : urls.Any(u => MailgunSetup.SameEndpoint(u, events)) ? new("webhook", webhook, SetupCheckStatus.Ok, "points at the tenant's events URL")
                : new("webhook", webhook, SetupCheckStatus.Fail, $"does not point at the tenant's events URL ({UrlMask.Mask(events)}): run tenant connect --tenant {tenant.Id}"));
        }

        items.Add(await CheckRouteAsync(tenant, domain, cancellationToken).ConfigureAwait(false));
        return new DomainSetupReport(domain.Name, status, items);
    }

    /// <summary>The tenant's reply route (found by its description, as tenant connect and setup route keep it) for one domain.</summary>
    private async Task<SetupCheckItem> CheckRouteAsync(Tenant tenant, TenantDomain domain, CancellationToken cancellationToken)
    {
        string[] descriptions = [MailgunSetup.TenantRouteDescription(tenant.Id), MailgunSetup.DomainRouteDescription(domain.Name)];
        var routes = await api.ListRoutesAsync(tenant.Account(domain.Region), cancellationToken).ConfigureAwait(false);
        var route = routes.FirstOrDefault(r => descriptions.Contains(r.Description, StringComparer.Ordinal));
        if (route is null)
        {
            return new("route", "reply", SetupCheckStatus.Fail, $"no reply route for {domain.Name}: run tenant connect --tenant {tenant.Id} (or setup route)");
        }

        var problems = new List<string>();
        // The expression ReplyRoute writes names each domain escaped: the domain must be one of them.
        if (!route.Expression.StartsWith("match_recipient(", StringComparison.Ordinal) || !route.Expression.Contains(Regex.Escape(domain.Name.ToLowerInvariant()), StringComparison.Ordinal))
        {
            problems.Add($"its expression ({route.Expression}) does not match recipients of {domain.Name}");
        }

        var forwards = route.Actions.Select(MailgunRoute.ForwardTarget).OfType<Uri>().ToList();
        if (forwards.Count == 0)
        {
            problems.Add("it forwards nowhere");
        }
        else if (tenant.AppUrl is { } app && !forwards.Any(f => MailgunSetup.SameEndpoint(f.AbsoluteUri, TenantUrls.Inbound(app, tenant.Id))))
        {
            problems.Add($"it does not forward to the tenant's inbound URL ({UrlMask.Mask(TenantUrls.Inbound(app, tenant.Id))})");
        }

        if (route.Actions.Count == 0 || route.Actions[^1] != "stop()")
        {
            // Without stop() every other matching route (a catch-all) runs too and a reply is handled twice.
            problems.Add("it does not end with stop()");
        }

        return problems.Count == 0
            ? new("route", "reply", SetupCheckStatus.Ok, $"priority {route.Priority}, {route.Expression} -> {string.Join(", ", route.Actions.Select(UrlMask.InText))}")
            : new("route", "reply", SetupCheckStatus.Fail, string.Join("; ", problems) + $": run tenant connect --tenant {tenant.Id} (or setup route)");
    }
}
