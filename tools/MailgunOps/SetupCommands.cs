using System.CommandLine;
using MailgunFunctions;
using MailgunFunctions.Inbound;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Tenants;

namespace MailgunOps;

/// <summary><c>setup webhooks|route|check-dns|check|test-route</c>: Mailgun's side of the product, idempotently (running twice changes nothing).</summary>
public static class SetupCommands
{
    public static Command Build(OpsRuntime runtime)
    {
        var setup = new Command("setup", "Set Mailgun up for the product: webhooks, the reply route, and a DNS check.");
        setup.Subcommands.Add(WebhooksCommand(runtime));
        setup.Subcommands.Add(RouteCommand(runtime));
        setup.Subcommands.Add(CheckDns(runtime));
        setup.Subcommands.Add(Check(runtime));
        setup.Subcommands.Add(TestRoute(runtime));
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
                var (status, found) = await dns.CheckAsync(record, token).ConfigureAwait(false);
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

    /// <summary>
    /// <c>setup check</c>: one report per domain of the tenant, for people and for monitoring. DNS (every record Mailgun
    /// expects, <see cref="MailDns.CheckAsync"/>), then Mailgun's side (<see cref="TenantSetupCheck"/>). Exit 0 when all is
    /// ok, 8 when only warnings, 7 when anything fails; 5 when Mailgun or DNS could not be asked.
    /// </summary>
    private static Command Check(OpsRuntime runtime)
    {
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(false, "Only this domain of the tenant (default: every domain of the tenant).");
        var verify = new Option<bool>("--verify") { Description = "First ask Mailgun to check the domain's DNS records again (PUT /v4/domains/{domain}/verify)." };
        var command = new Command("check",
            "Check a tenant's Mailgun set-up per domain: DNS records (SPF, DKIM, tracking CNAME, MX hosts and priorities), Mailgun's verification, "
            + "unsubscribe tracking, webhooks to the tenant's URL, the reply route. Exit 0 all ok, 8 warnings only, 7 a failure, 5 Mailgun or DNS unreachable.")
        {
            tenant, domain, verify,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var t = (await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), null, token).ConfigureAwait(false)).Tenant;
            IReadOnlyList<TenantDomain> domains = parse.GetValue(domain) is { Length: > 0 } only
                ? [t.Domain(only) ?? throw new OpsException(ExitCodes.NotFound, $"'{only}' is not a domain of tenant '{t.Id}'")]
                : t.Domains;
            var dns = new MailDns(ctx.DnsServer);
            var check = ctx.Get<TenantSetupCheck>();
            var reports = new List<(string Domain, string State, List<SetupCheckItem> Items)>();
            foreach (var d in domains)
            {
                var mailgun = await check.CheckAsync(t, d, parse.GetValue(verify), token).ConfigureAwait(false);
                var items = new List<SetupCheckItem>();
                foreach (var record in mailgun.Mailgun.Records)
                {
                    var (status, found) = await dns.CheckAsync(record, token).ConfigureAwait(false);
                    // Several MX records share a name: each is named by its host too, and expected with its priority.
                    bool mx = record.RecordType.Equals("MX", StringComparison.OrdinalIgnoreCase);
                    string expected = mx && record.Priority is { Length: > 0 } p ? $"{p} {record.Value}" : record.Value;
                    items.Add(new SetupCheckItem("dns", mx ? $"{record.RecordType} {record.Name} {record.Value}" : $"{record.RecordType} {record.Name}", status switch
                    {
                        "ok" => SetupCheckStatus.Ok,
                        "unchecked" => SetupCheckStatus.Warn,
                        _ => SetupCheckStatus.Fail,
                    }, status == "ok" ? expected : $"{status}: expected {expected}; found {(found.Count == 0 ? "nothing" : string.Join(" | ", found))}"));
                }

                reports.Add((d.Name, mailgun.Mailgun.State, [.. items, .. mailgun.Items]));
            }

            int failures = reports.Sum(r => r.Items.Count(i => i.Status == SetupCheckStatus.Fail));
            int warnings = reports.Sum(r => r.Items.Count(i => i.Status == SetupCheckStatus.Warn));
            if (ctx.Output.Json)
            {
                ctx.Output.Document(new
                {
                    tenant = t.Id,
                    failures,
                    warnings,
                    domains = reports.Select(r => new
                    {
                        domain = r.Domain,
                        state = r.State,
                        items = r.Items.Select(i => new { area = i.Area, name = i.Name, status = i.Status, detail = i.Detail }),
                    }),
                });
            }
            else
            {
                foreach (var (name, state, items) in reports)
                {
                    ctx.Output.Text($"{name} (Mailgun: {state})");
                    ctx.Output.Table(["AREA", "CHECK", "STATUS", "DETAIL"], items.Select(i => new[] { i.Area, i.Name, i.Status.ToUpperInvariant(), i.Detail }));
                }

                ctx.Output.Text(failures > 0 ? $"{failures} failing, {warnings} warning(s)" : warnings > 0 ? $"all required checks ok, {warnings} warning(s)" : "all checks ok");
            }

            return failures > 0 ? ExitCodes.Problems : warnings > 0 ? ExitCodes.Warnings : ExitCodes.Ok;
        }, ct));
        return command;
    }

    /// <summary>
    /// <c>setup test-route</c>: a message through Mailgun to an address the tenant's reply route matches, with a nonce in
    /// its subject, then waits until the app's inbound webhook and queue stored it as a reply (<see cref="ReplyStore"/>,
    /// the tenant's newest replies). The whole way a real reply takes: Mailgun's receiving, the route, the webhook's
    /// signature check, the queue, the processing, the table.
    /// </summary>
    private static Command TestRoute(OpsRuntime runtime)
    {
        var tenant = OpsCommands.Tenant();
        var domain = OpsCommands.Domain(false, "The domain to send through and to (default: the tenant's first domain).");
        var timeout = new Option<TimeSpan>("--timeout")
        {
            Description = "How long to wait for the reply to be stored: 120s (default), 5m.",
            DefaultValueFactory = _ => TimeSpan.FromSeconds(120),
            CustomParser = r => ReplayCommands.ParseSince(r.Tokens.Count > 0 ? r.Tokens[0].Value : "", r, "--timeout"),
        };
        var command = new Command("test-route",
            "Send a test message through Mailgun to an address the tenant's reply route matches and wait until the app stored it as a reply; prints how long it took (exit 7 on timeout).")
        {
            tenant, domain, timeout,
        };
        command.SetAction((parse, ct) => runtime.RunAsync(parse, async (ctx, token) =>
        {
            var t = (await ctx.TenantAsync(parse.GetValue(tenant), parse.GetValue(domain), null, token).ConfigureAwait(false)).Tenant;
            var d = parse.GetValue(domain) is { Length: > 0 } named
                ? t.Domain(named) ?? throw new OpsException(ExitCodes.NotFound, $"'{named}' is not a domain of tenant '{t.Id}'")
                : t.Domains is [var first, ..] ? first : throw new OpsException(ExitCodes.NotFound, $"tenant '{t.Id}' has no domain");
            string nonce = Guid.NewGuid().ToString("N")[..16];
            // The route matches every recipient of the domain: an address of its own keeps the test apart from contacts' mail.
            string to = $"route-test-{nonce}@{d.Name}", subject = $"mailgun-ops route test {nonce}";
            var started = ctx.Time.GetTimestamp();
            string id = await ctx.Get<MailgunApiClient>().SendMessageAsync(t.MailgunDomain(d), $"mailgun-ops <route-test@{d.Name}>", to, subject,
                $"A test of the reply route, sent by mailgun-ops setup test-route (nonce {nonce}). It can be deleted.", token).ConfigureAwait(false);
            ctx.Output.Progress($"sent {subject} to {to} (Mailgun id {id}); waiting for the app to store it");
            var replies = (await ctx.ForTenantAsync(t.Id, token).ConfigureAwait(false)).Get<ReplyStore>();
            var wait = parse.GetValue(timeout);
            while (true)
            {
                if (await StoredAsync(replies, t.Id, nonce, token).ConfigureAwait(false) is { } rowKey)
                {
                    var took = ctx.Time.GetElapsedTime(started);
                    if (ctx.Output.Json)
                    {
                        ctx.Output.Document(new { tenant = t.Id, domain = d.Name, to, nonce, messageId = id, stored = true, seconds = Math.Round(took.TotalSeconds, 1), reply = rowKey });
                    }
                    else
                    {
                        ctx.Output.Text($"the reply route works: the test message to {to} was stored as a reply {took.TotalSeconds:0.0} s after sending");
                    }

                    return ExitCodes.Ok;
                }

                if (ctx.Time.GetElapsedTime(started) >= wait)
                {
                    throw new OpsException(ExitCodes.Problems,
                        $"the test message to {to} (nonce {nonce}) was not stored as a reply within {wait.TotalSeconds:0} s. Check: setup check --tenant {t.Id} (the reply route is there, "
                        + "matches the domain and forwards to the tenant's inbound URL with a valid function key); the domain's MX records point at Mailgun; the app's inbound function answers "
                        + "(its logs, 401 means a wrong signing key: tenant show); the mailgun-inbound queue is processed (poison list --queue inbound). A longer --timeout if Mailgun is slow.");
                }

                await Task.Delay(TimeSpan.FromSeconds(1), ctx.Time, token).ConfigureAwait(false);
            }
        }, ct));
        return command;
    }

    /// <summary>The row key of the tenant's reply whose subject holds the nonce, among its newest replies, or null.</summary>
    private static async Task<string?> StoredAsync(ReplyStore replies, string tenant, string nonce, CancellationToken token)
    {
        int read = 0;
        await foreach (var reply in replies.ListAsync(tenant, token).ConfigureAwait(false))
        {
            if (reply.GetString("Subject") is { } subject && subject.Contains(nonce, StringComparison.Ordinal))
            {
                return reply.RowKey;
            }

            // Newest first: the test's reply is among the first unless the tenant is flooded with replies right now.
            if (++read >= 200)
            {
                return null;
            }
        }

        return null;
    }

    private static string Cut(string s) => s.Length <= 60 ? s : s[..59] + "…";
}
