using System.Text.RegularExpressions;
using MailgunFunctions.Settings;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.MailgunApi;

/// <summary>
/// What one webhook subscription had, what it gets, and what that is: <c>created</c>, <c>added</c> (our URL beside
/// others), <c>updated</c> (our endpoint with another function key, replaced in place), <c>replaced</c> (only our URL
/// left), <c>unchanged</c>; on removal <c>removed</c> (our URL taken out, others kept), <c>deleted</c> (the subscription
/// held only our URLs) or <c>absent</c> (nothing of ours there).
/// </summary>
public sealed record WebhookPlan(string Webhook, string Action, IReadOnlyList<string> Was, IReadOnlyList<string> Urls)
{
    public bool ChangesSomething => Action is not ("unchanged" or "absent");
}

/// <summary>What a route set-up did: <c>created</c>, <c>updated</c>, <c>unchanged</c>; on removal <c>deleted</c> or <c>absent</c>.</summary>
public sealed record RoutePlan(string Action, string? Id, MailgunRoute Route)
{
    public bool ChangesSomething => Action is not ("unchanged" or "absent");
}

/// <summary>Some webhooks of a domain already hold Mailgun's maximum of other URLs: nothing was written.</summary>
public sealed class WebhooksFullException(string domain, IReadOnlyList<WebhookPlan> full)
    : Exception($"these webhooks of '{domain}' already have {MailgunSetup.MaxUrlsPerWebhook} other URLs, Mailgun's limit: " +
        string.Join("; ", full.Select(p => $"{p.Webhook} ({string.Join(" ", p.Was.Select(UrlMask.Mask))})")) +
        ". Remove one in Mailgun (Sending > Webhooks), or replace them with ours (setup webhooks --replace).")
{
    public string Domain { get; } = domain;
    public IReadOnlyList<WebhookPlan> Full { get; } = full;
}

/// <summary>
/// Mailgun's side of a tenant, one rule for every command that touches it (<c>setup webhooks|route</c>, <c>tenant
/// connect|add-domain|remove-domain|disconnect</c>). Webhooks: our URL is added to each subscription the product reads,
/// other integrations' URLs are kept (Mailgun keeps at most 3 per subscription), a URL of our own endpoint (same scheme,
/// host and path: only the function key in the query differs) is replaced in place, and removal takes out only our
/// URLs. Routes: found again by their description, never guessed from expressions. Every method is idempotent: a
/// second run finds everything as wanted and writes nothing.
/// </summary>
public sealed class MailgunSetup(MailgunApiClient api, IOptions<WebhookOptions> options)
{
    /// <summary>
    /// Every webhook subscription the product can read: both fail kinds (Mailgun names them apart, they arrive as
    /// <c>failed</c>), complaints and unsubscribes for DND, delivered (it ends a temporary DND, feeds the daily rates,
    /// threads replies), and the engagement events opened and clicked (activity only; see <see cref="EngagementWebhooks"/>).
    /// Not <c>accepted</c>: it carries nothing for DND and would double the traffic. Removal covers all of them.
    /// </summary>
    public static readonly IReadOnlyList<string> Webhooks = ["delivered", "permanent_fail", "temporary_fail", "complained", "unsubscribed", "opened", "clicked"];

    /// <summary>The subscriptions that change no DND state, set up only with <see cref="WebhookOptions.EngagementEvents"/>.</summary>
    public static readonly IReadOnlyList<string> EngagementWebhooks = ["opened", "clicked"];

    /// <summary>The subscriptions our URL should be on.</summary>
    public static IReadOnlyList<string> Subscribed(bool engagementEvents) =>
        engagementEvents ? Webhooks : Webhooks.Except(EngagementWebhooks, StringComparer.Ordinal).ToList();

    /// <summary>The subscriptions this deployment sets up (<see cref="WebhookOptions.EngagementEvents"/>).</summary>
    public IReadOnlyList<string> Wanted => Subscribed(options.Value.EngagementEvents);

    /// <summary>Mailgun keeps at most this many URLs per webhook subscription.</summary>
    public const int MaxUrlsPerWebhook = 3;

    /// <summary>Priority of the reply route (lower runs first); a catch-all of another integration usually has a higher number.</summary>
    public const int DefaultRoutePriority = 10;

    /// <summary>
    /// Puts <paramref name="target"/> on every webhook the product reads. Plans everything first: when a subscription has
    /// no room for our URL, <see cref="WebhooksFullException"/> is thrown before anything is written.
    /// </summary>
    public async Task<IReadOnlyList<WebhookPlan>> SetWebhooksAsync(MailgunDomain domain, Uri target, bool replace, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(domain);
        var existing = await api.GetWebhooksAsync(domain, cancellationToken).ConfigureAwait(false);
        var plans = PlanWebhooks(existing, target, replace, options.Value.EngagementEvents);
        if (plans.Where(p => p.Urls.Count > MaxUrlsPerWebhook).ToList() is { Count: > 0 } full)
        {
            throw new WebhooksFullException(domain.Name, full);
        }

        foreach (var plan in plans.Where(p => p.ChangesSomething))
        {
            if (plan.Urls.Count == 0)
            {
                // Only an engagement subscription left with none of our URLs and no other (Mailgun refuses an empty one).
                await api.DeleteWebhookAsync(domain, plan.Webhook, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await api.SetWebhookAsync(domain, plan.Webhook, plan.Urls, exists: plan.Was.Count > 0, cancellationToken).ConfigureAwait(false);
            }
        }

        return plans;
    }

    /// <summary>
    /// Takes every URL of our endpoint (<paramref name="target"/>, any function key) out of the domain's webhooks; other
    /// integrations' URLs stay, and a subscription left without URLs is deleted (Mailgun refuses one with none).
    /// </summary>
    public async Task<IReadOnlyList<WebhookPlan>> RemoveWebhooksAsync(MailgunDomain domain, Uri target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(domain);
        var existing = await api.GetWebhooksAsync(domain, cancellationToken).ConfigureAwait(false);
        var plans = PlanWebhookRemoval(existing, target);
        foreach (var plan in plans.Where(p => p.ChangesSomething))
        {
            if (plan.Urls.Count == 0)
            {
                await api.DeleteWebhookAsync(domain, plan.Webhook, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await api.SetWebhookAsync(domain, plan.Webhook, plan.Urls, exists: true, cancellationToken).ConfigureAwait(false);
            }
        }

        return plans;
    }

    /// <summary>Creates <paramref name="wanted"/>, or updates the route with its description, unless it is already as wanted.</summary>
    public async Task<RoutePlan> SetRouteAsync(MailgunAccount account, MailgunRoute wanted, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        var existing = (await api.ListRoutesAsync(account, cancellationToken).ConfigureAwait(false)).FirstOrDefault(r => r.Description == wanted.Description);
        if (existing is null)
        {
            await api.SetRouteAsync(account, wanted, null, cancellationToken).ConfigureAwait(false);
            return new RoutePlan("created", null, wanted);
        }

        if (existing.SameRuleAs(wanted))
        {
            return new RoutePlan("unchanged", existing.Id, wanted);
        }

        await api.SetRouteAsync(account, wanted, existing.Id, cancellationToken).ConfigureAwait(false);
        return new RoutePlan("updated", existing.Id, wanted);
    }

    /// <summary>Deletes every route of the account (in its region) with this description; other routes are never touched.</summary>
    public async Task<RoutePlan> RemoveRouteAsync(MailgunAccount account, string description, CancellationToken cancellationToken)
    {
        var ours = (await api.ListRoutesAsync(account, cancellationToken).ConfigureAwait(false)).Where(r => r.Description == description && r.Id is not null).ToList();
        foreach (var route in ours)
        {
            await api.DeleteRouteAsync(account, route.Id!, cancellationToken).ConfigureAwait(false);
        }

        return ours.Count == 0
            ? new RoutePlan("absent", null, new MailgunRoute(null, 0, description, "", []))
            : new RoutePlan("deleted", ours[0].Id, ours[0]);
    }

    /// <summary>
    /// The reply route: recipients of <paramref name="domains"/> are forwarded to <paramref name="target"/>, then
    /// <c>stop()</c> (without it every other matching route, a catch-all, also runs and the reply is handled twice).
    /// </summary>
    public static MailgunRoute ReplyRoute(string description, IEnumerable<string> domains, Uri target, int priority = DefaultRoutePriority)
    {
        ArgumentNullException.ThrowIfNull(target);
        var names = domains.Select(d => SendingDomain.Normalize(d) ?? throw new ArgumentException($"'{d}' is not a domain name", nameof(domains)))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (names.Count == 0)
        {
            throw new ArgumentException("a reply route needs at least one domain", nameof(domains));
        }

        string recipients = names.Count == 1 ? Regex.Escape(names[0]) : "(" + string.Join('|', names.Select(n => Regex.Escape(n))) + ")";
        return new MailgunRoute(null, priority, description, $"match_recipient(\".*@{recipients}\")", [$"forward(\"{target.AbsoluteUri}\")", "stop()"]);
    }

    /// <summary>The description that identifies the reply route of one domain (<c>setup route</c>, the single-account path).</summary>
    public static string DomainRouteDescription(string domain) => $"mailgun-functions replies for {domain.Trim().ToLowerInvariant()}";

    /// <summary>The description that identifies a tenant's reply route (one per tenant and region, matching all its domains there).</summary>
    public static string TenantRouteDescription(string tenant) => $"mailgun-functions replies for tenant {tenant.Trim()}";

    /// <summary>
    /// The URLs one webhook should have, for each webhook the product reads. A URL of the same endpoint as
    /// <paramref name="target"/> is ours and is replaced in place; other integrations' URLs are kept unless
    /// <paramref name="replace"/>. A plan with more than <see cref="MaxUrlsPerWebhook"/> URLs cannot be written. Without
    /// <paramref name="engagementEvents"/>, our URL is taken off <c>opened</c> and <c>clicked</c> instead (others' stay).
    /// </summary>
    public static IReadOnlyList<WebhookPlan> PlanWebhooks(IReadOnlyDictionary<string, IReadOnlyList<string>> existing, Uri target, bool replace, bool engagementEvents = true)
    {
        ArgumentNullException.ThrowIfNull(existing);
        ArgumentNullException.ThrowIfNull(target);
        var wanted = Subscribed(engagementEvents);
        return Webhooks.Select(w => wanted.Contains(w, StringComparer.Ordinal)
            ? PlanWebhook(w, existing.GetValueOrDefault(w) ?? [], target, replace)
            : PlanRemoval(w, existing.GetValueOrDefault(w) ?? [], target)).ToList();
    }

    /// <summary>For each webhook the product reads: the URLs left once every URL of our endpoint is taken out.</summary>
    public static IReadOnlyList<WebhookPlan> PlanWebhookRemoval(IReadOnlyDictionary<string, IReadOnlyList<string>> existing, Uri target)
    {
        ArgumentNullException.ThrowIfNull(existing);
        ArgumentNullException.ThrowIfNull(target);
        return Webhooks.Select(w => PlanRemoval(w, existing.GetValueOrDefault(w) ?? [], target)).ToList();
    }

    private static WebhookPlan PlanRemoval(string webhook, IReadOnlyList<string> was, Uri target)
    {
        var kept = was.Where(u => !SameEndpoint(u, target)).ToList();
        string action = kept.Count == was.Count ? "absent" : kept.Count == 0 ? "deleted" : "removed";
        return new WebhookPlan(webhook, action, was, kept);
    }

    private static WebhookPlan PlanWebhook(string webhook, IReadOnlyList<string> was, Uri target, bool replace)
    {
        string wanted = target.AbsoluteUri;
        // In place, so a second run (or a run that only changes the key) keeps the order Mailgun has.
        var urls = replace ? [wanted] : was.Select(u => SameEndpoint(u, target) ? wanted : u).Distinct(StringComparer.Ordinal).ToList();
        if (!urls.Contains(wanted, StringComparer.Ordinal))
        {
            urls.Add(wanted);
        }

        string action = was.Count == 0 ? "created"
            : was.SequenceEqual(urls, StringComparer.Ordinal) ? "unchanged"
            : replace && was.Any(u => !SameEndpoint(u, target)) ? "replaced"
            : was.Any(u => SameEndpoint(u, target)) ? "updated"
            : "added";
        return new WebhookPlan(webhook, action, was, urls);
    }

    /// <summary>
    /// Same scheme, host and path (the query, which holds the function key, may differ). The path is compared exactly:
    /// it holds the tenant id, which is case-sensitive, so one tenant's removal never takes another's URL.
    /// </summary>
    public static bool SameEndpoint(string url, Uri target) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && Uri.Compare(uri, target, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0
        && Uri.Compare(uri, target, UriComponents.Path, UriFormat.Unescaped, StringComparison.Ordinal) == 0;
}
