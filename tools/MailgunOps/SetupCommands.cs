using System.CommandLine;
using System.Text.RegularExpressions;
using DnsClient;
using DnsClient.Protocol;
using MailgunFunctions;
using MailgunFunctions.MailgunApi;

namespace MailgunOps;

/// <summary><c>setup webhooks|route|check-dns</c>: Mailgun's side of the product, idempotently (running twice changes nothing).</summary>
public static class SetupCommands
{
    /// <summary>
    /// The webhook subscriptions the product reads: both fail kinds (Mailgun names them apart, they arrive as
    /// <c>failed</c>), complaints and unsubscribes for DND, delivered/opened/clicked as activity. Not <c>accepted</c>:
    /// it carries nothing for DND and would double the traffic.
    /// </summary>
    public static readonly IReadOnlyList<string> Webhooks = ["delivered", "permanent_fail", "temporary_fail", "complained", "unsubscribed", "opened", "clicked"];

    public static Command Build(OpsRuntime runtime)
    {
        var setup = new Command("setup", "Set Mailgun up for the product: webhooks, the reply route, and a DNS check.");
        setup.Subcommands.Add(WebhooksCommand(runtime));
        setup.Subcommands.Add(RouteCommand(runtime));
        setup.Subcommands.Add(CheckDns(runtime));
        return setup;
    }

    private static Option<Uri> Url(string description) => new("--url")
    {
        Description = description,
        Required = true,
        CustomParser = r =>
        {
            string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
            {
                return uri;
            }

            r.AddError($"--url must be an absolute http(s) URL (got '{UrlMask.Mask(text)}').");
            return null!;
        },
    };

    /// <summary>Mailgun keeps at most this many URLs per webhook subscription.</summary>
    public const int MaxUrlsPerWebhook = 3;

    private static Command WebhooksCommand(OpsRuntime runtime)
    {
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(true);
        var region = OpsCommands.Region();
        var url = Url("The events webhook URL of the Functions app (…/api/mailgun/{tenant}/events).");
        var replace = new Option<bool>("--replace") { Description = "Make --url the only URL of each webhook (removes other integrations' URLs)." };
        var command = new Command("webhooks", "Add --url to every webhook the product uses, keeping other integrations' URLs (creates missing webhooks).") { tenant, domain, region, url, replace };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var owner = await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), parse.GetValue(region), token).ConfigureAwait(false);
            var d = OpsContext.MailgunDomainOf(owner, parse.GetValue(domain));
            var target = parse.GetValue(url)!;
            var api = ctx.Get<MailgunApiClient>();
            var existing = await api.GetWebhooksAsync(d, token).ConfigureAwait(false);
            // Plan everything first: a webhook that cannot take our URL refuses the run before anything is written.
            var plans = Webhooks.Select(w => PlanWebhook(w, existing.GetValueOrDefault(w) ?? [], target, parse.GetValue(replace))).ToList();
            if (plans.Where(p => p.Urls.Count > MaxUrlsPerWebhook).Select(p => $"{p.Webhook} ({Shown(p.Was)})").ToList() is { Count: > 0 } full)
            {
                throw new OpsException(ExitCodes.Refused,
                    $"these webhooks already have {MaxUrlsPerWebhook} other URLs, Mailgun's limit: {string.Join("; ", full)}. Remove one in Mailgun, or repeat with --replace to keep only --url.");
            }

            foreach (var plan in plans.Where(p => p.Action != "unchanged"))
            {
                await api.SetWebhookAsync(d, plan.Webhook, plan.Urls, exists: plan.Was.Count > 0, token).ConfigureAwait(false);
            }

            if (ctx.Output.Json)
            {
                // Function keys and other integrations' tokens sit in the query: Mailgun gets the URLs whole, people see them masked.
                ctx.Output.Document(new { tenant = owner.Id, domain = d.Name, url = UrlMask.Mask(target), webhooks = plans.Select(p => new { webhook = p.Webhook, action = p.Action, was = p.Was.Count == 0 ? null : Shown(p.Was), urls = p.Urls.Select(UrlMask.Mask) }) });
            }
            else
            {
                ctx.Output.Table(["WEBHOOK", "ACTION", "WAS", "NOW"], plans.Select(p => new[] { p.Webhook, p.Action, Shown(p.Was), Shown(p.Urls) }));
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    /// <summary>URLs as people may see them: each with its query masked (<see cref="UrlMask"/>).</summary>
    private static string Shown(IEnumerable<string> urls) => string.Join(" ", urls.Select(UrlMask.Mask));

    private sealed record WebhookPlan(string Webhook, string Action, IReadOnlyList<string> Was, IReadOnlyList<string> Urls);

    /// <summary>
    /// The URLs one webhook should have. A URL of the same endpoint (scheme, host and path: only the function key in the
    /// query differs, e.g. after a key rotation) is ours and is replaced in place; other integrations' URLs are kept
    /// unless <paramref name="replace"/>.
    /// </summary>
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

    private static bool SameEndpoint(string url, Uri target) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && Uri.Compare(uri, target, UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    /// <summary>The route's identity: setup finds its own route by this description, never by guessing from expressions.</summary>
    public static string RouteDescription(string domain) => $"mailgun-functions replies for {domain.Trim().ToLowerInvariant()}";

    private static Command RouteCommand(OpsRuntime runtime)
    {
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(true);
        var region = OpsCommands.Region();
        var url = Url("The inbound webhook URL of the Functions app (…/api/mailgun/{tenant}/inbound).");
        var priority = new Option<int>("--priority") { Description = "Route priority, lower runs first (default 10).", DefaultValueFactory = _ => 10 };
        var command = new Command("route", "Create the reply route: recipients of the domain, forward to --url, then stop.") { tenant, domain, region, url, priority };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var owner = await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), parse.GetValue(region), token).ConfigureAwait(false);
            var mailgunDomain = OpsContext.MailgunDomainOf(owner, parse.GetValue(domain));
            string d = mailgunDomain.Name;
            var account = mailgunDomain.Account;
            var target = parse.GetValue(url)!;
            // stop(): without it every other matching route (a catch-all) also runs and the reply is handled twice.
            var wanted = new MailgunRoute(null, parse.GetValue(priority), RouteDescription(d),
                $"match_recipient(\".*@{Regex.Escape(d)}\")", [$"forward(\"{target.AbsoluteUri}\")", "stop()"]);
            var api = ctx.Get<MailgunApiClient>();
            var existing = (await api.ListRoutesAsync(account, token).ConfigureAwait(false)).FirstOrDefault(r => r.Description == wanted.Description);
            string action;
            if (existing is null)
            {
                await api.SetRouteAsync(account, wanted, null, token).ConfigureAwait(false);
                action = "created";
            }
            else if (existing.SameRuleAs(wanted))
            {
                action = "unchanged";
            }
            else
            {
                await api.SetRouteAsync(account, wanted, existing.Id, token).ConfigureAwait(false);
                action = "updated";
            }

            // forward("…?code=<function key>"): the route keeps the key, the output does not.
            var shown = wanted with { Actions = wanted.Actions.Select(UrlMask.InText).ToArray() };
            if (ctx.Output.Json)
            {
                ctx.Output.Document(new { domain = d, action, id = existing?.Id, route = shown });
            }
            else
            {
                ctx.Output.Text($"route {action}: priority {shown.Priority}, {shown.Expression} -> {string.Join(", ", shown.Actions)}");
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static Command CheckDns(OpsRuntime runtime)
    {
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(true);
        var region = OpsCommands.Region();
        var command = new Command("check-dns", "Check in DNS the records Mailgun expects for the domain (SPF, DKIM, tracking CNAME, MX).") { tenant, domain, region };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var owner = await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), parse.GetValue(region), token).ConfigureAwait(false);
            var d = OpsContext.MailgunDomainOf(owner, parse.GetValue(domain));
            var expected = await ctx.Get<MailgunApiClient>().GetDomainDnsRecordsAsync(d, token).ConfigureAwait(false);
            var dns = new MailDns(ctx.DnsServer);
            var results = new List<object>();
            var rows = new List<string?[]>();
            int problems = 0;
            foreach (var record in expected)
            {
                var (status, found) = await CheckAsync(dns, record, token).ConfigureAwait(false);
                problems += status == "ok" ? 0 : 1;
                results.Add(new { purpose = record.Purpose, type = record.RecordType, name = record.Name, expected = record.Value, status, found, mailgunSays = record.Valid });
                rows.Add([record.Purpose, record.RecordType, record.Name, Cut(record.Value), status, Cut(string.Join(" | ", found))]);
            }

            if (ctx.Output.Json)
            {
                ctx.Output.Document(new { domain = d.Name, problems, records = results });
            }
            else
            {
                ctx.Output.Table(["PURPOSE", "TYPE", "NAME", "EXPECTED", "STATUS", "FOUND"], rows);
                ctx.Output.Text(problems == 0 ? "all records found" : $"{problems} record(s) missing or wrong");
            }

            return problems == 0 ? ExitCodes.Ok : ExitCodes.Problems;
        }, ct));
        return command;
    }

    private static string Cut(string s) => s.Length <= 60 ? s : s[..59] + "…";

    /// <summary>
    /// ok, missing or wrong. SPF passes when the name's one <c>v=spf1</c> record includes every <c>include:</c> Mailgun
    /// asks for (other includes are the owner's business); DKIM and other TXT must match exactly (DNS splits long
    /// TXT values into strings: they are joined); CNAME and MX compare host names without the trailing dot.
    /// </summary>
    private static async Task<(string Status, List<string> Found)> CheckAsync(MailDns dns, MailgunDnsRecord record, CancellationToken token)
    {
        switch (record.RecordType.ToUpperInvariant())
        {
            case "TXT":
            {
                var found = (await dns.RecordsAsync(record.Name, QueryType.TXT, token).ConfigureAwait(false)).OfType<TxtRecord>().Select(t => string.Concat(t.Text)).ToList();
                if (found.Count == 0)
                {
                    return ("missing", found);
                }

                if (record.Value.StartsWith("v=spf1", StringComparison.OrdinalIgnoreCase))
                {
                    var spf = found.Where(f => f.StartsWith("v=spf1", StringComparison.OrdinalIgnoreCase)).ToList();
                    var includes = record.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(t => t.StartsWith("include:", StringComparison.OrdinalIgnoreCase));
                    return (spf.Count == 1 && includes.All(i => spf[0].Split(' ').Contains(i, StringComparer.OrdinalIgnoreCase)) ? "ok" : spf.Count == 0 ? "missing" : "wrong", found);
                }

                return (found.Any(f => f == record.Value) ? "ok" : "wrong", found);
            }

            case "CNAME":
            {
                var found = (await dns.RecordsAsync(record.Name, QueryType.CNAME, token).ConfigureAwait(false)).OfType<CNameRecord>().Select(c => Host(c.CanonicalName.Value)).ToList();
                return (found.Count == 0 ? "missing" : found.Contains(Host(record.Value)) ? "ok" : "wrong", found);
            }

            case "MX":
            {
                var found = (await dns.RecordsAsync(record.Name, QueryType.MX, token).ConfigureAwait(false)).OfType<MxRecord>().Select(m => Host(m.Exchange.Value)).ToList();
                return (found.Count == 0 ? "missing" : found.Contains(Host(record.Value)) ? "ok" : "wrong", found);
            }

            default:
                return ("unchecked", []);
        }
    }

    private static string Host(string name) => name.Trim().TrimEnd('.').ToLowerInvariant();
}
