using System.CommandLine;
using DnsClient;
using DnsClient.Protocol;
using MailgunFunctions;
using MailgunFunctions.MailgunApi;

namespace MailgunOps;

/// <summary><c>setup webhooks|route|check-dns</c>: Mailgun's side of the product, idempotently (running twice changes nothing).</summary>
public static class SetupCommands
{
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
            // The same rule as tenant connect (MailgunSetup): a webhook without room for our URL refuses the run before anything is written.
            var plans = await ctx.Get<MailgunSetup>().SetWebhooksAsync(d, target, parse.GetValue(replace), token).ConfigureAwait(false);
            if (ctx.Output.Json)
            {
                ctx.Output.Document(new { tenant = owner.Id, domain = d.Name, url = UrlMask.Mask(target), webhooks = WebhookViews(plans) });
            }
            else
            {
                WebhookTable(ctx.Output, plans);
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    /// <summary>Webhook plans for JSON, every URL masked (ours carry the function key, others their own tokens).</summary>
    public static IEnumerable<object> WebhookViews(IEnumerable<WebhookPlan> plans) => plans.Select(p => new
    {
        webhook = p.Webhook,
        action = p.Action,
        was = p.Was.Count == 0 ? null : string.Join(" ", p.Was.Select(UrlMask.Mask)),
        urls = p.Urls.Select(UrlMask.Mask).ToList(),
    });

    public static void WebhookTable(Output output, IEnumerable<WebhookPlan> plans) =>
        output.Table(["WEBHOOK", "ACTION", "WAS", "NOW"], plans.Select(p => new[] { p.Webhook, p.Action, string.Join(" ", p.Was.Select(UrlMask.Mask)), string.Join(" ", p.Urls.Select(UrlMask.Mask)) }));

    private static Command RouteCommand(OpsRuntime runtime)
    {
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(true);
        var region = OpsCommands.Region();
        var url = Url("The inbound webhook URL of the Functions app (…/api/mailgun/{tenant}/inbound).");
        var priority = new Option<int>("--priority") { Description = $"Route priority, lower runs first (default {MailgunSetup.DefaultRoutePriority}).", DefaultValueFactory = _ => MailgunSetup.DefaultRoutePriority };
        var command = new Command("route", "Create the reply route: recipients of the domain, forward to --url, then stop.") { tenant, domain, region, url, priority };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var owner = await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), parse.GetValue(region), token).ConfigureAwait(false);
            var mailgunDomain = OpsContext.MailgunDomainOf(owner, parse.GetValue(domain));
            string d = mailgunDomain.Name;
            // One route per domain, found again by its description (tenant connect keeps one per tenant and region instead).
            var wanted = MailgunSetup.ReplyRoute(MailgunSetup.DomainRouteDescription(d), [d], parse.GetValue(url)!, parse.GetValue(priority));
            var plan = await ctx.Get<MailgunSetup>().SetRouteAsync(mailgunDomain.Account, wanted, token).ConfigureAwait(false);
            if (ctx.Output.Json)
            {
                ctx.Output.Document(new { domain = d, action = plan.Action, id = plan.Id, route = RouteView(plan.Route) });
            }
            else
            {
                ctx.Output.Text($"route {plan.Action}: {RouteText(plan.Route)}");
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    /// <summary>A route for JSON, its forward URL masked.</summary>
    public static object RouteView(MailgunRoute route) => new
    {
        priority = route.Priority,
        description = route.Description,
        expression = route.Expression,
        actions = route.Actions.Select(UrlMask.InText).ToList(),
    };

    public static string RouteText(MailgunRoute route) =>
        $"priority {route.Priority}, {route.Expression} -> {string.Join(", ", route.Actions.Select(UrlMask.InText))}";

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
