using MailgunFunctions.MailgunApi;
using Newtonsoft.Json.Linq;

namespace MailgunOps.Tests;

[NonParallelizable]
public sealed class SetupCommandTests : OpsHarness
{
    private const string EventsUrl = "https://app.example.net/api/mailgun/events";

    [Test]
    public async Task WebhooksAreCreatedOnceAndOurUrlIsAddedBesideOtherIntegrations()
    {
        EngagementEvents = true;
        Mailgun.SetWebhooks(Domain, new Dictionary<string, string[]>
        {
            ["delivered"] = [EventsUrl],
            ["clicked"] = ["https://analytics.example.net/hook"],
            ["opened"] = ["https://app.example.net/api/mailgun/events?code=old-key", "https://analytics.example.net/hook"],
            ["accepted"] = ["https://someone-else.example.net/hook"],
        });

        var first = await RunAsync("setup", "webhooks", "--domain", Domain, "--url", EventsUrl, "--json");
        int writesAfterFirst = Writes();
        var second = await RunAsync("setup", "webhooks", "--domain", Domain, "--url", EventsUrl, "--json");

        Assert.That(first.ExitCode, Is.EqualTo(0), first.ToString());
        var actions = ((JArray)first.Json["webhooks"]!).ToDictionary(w => (string)w["webhook"]!, w => (string)w["action"]!);
        var hooks = Mailgun.Webhooks(Domain);
        Assert.Multiple(() =>
        {
            Assert.That(actions["delivered"], Is.EqualTo("unchanged"));
            Assert.That(actions["clicked"], Is.EqualTo("added"));
            Assert.That(actions["opened"], Is.EqualTo("updated"), "the same endpoint with another function key is ours");
            Assert.That(actions["permanent_fail"], Is.EqualTo("created"));
            Assert.That(actions.Keys, Does.Not.Contain("accepted"));
            foreach (string name in new[] { "delivered", "permanent_fail", "temporary_fail", "complained", "unsubscribed" })
            {
                Assert.That(hooks[name], Is.EqualTo(new[] { EventsUrl }), name);
            }

            Assert.That(hooks["clicked"], Is.EqualTo(new[] { "https://analytics.example.net/hook", EventsUrl }), "another integration's URL is kept");
            Assert.That(hooks["opened"], Is.EqualTo(new[] { EventsUrl, "https://analytics.example.net/hook" }), "replaced in place");
            Assert.That(hooks["accepted"], Is.EqualTo(new[] { "https://someone-else.example.net/hook" }), "not ours to change");
            Assert.That(((JArray)second.Json["webhooks"]!).Select(w => (string?)w["action"]), Is.All.EqualTo("unchanged"));
            Assert.That(Writes(), Is.EqualTo(writesAfterFirst), "a second run changes nothing");
        });
    }

    /// <summary>
    /// The function key (<c>?code=</c>) and other integrations' query tokens are secrets: Mailgun gets the full URLs, but no
    /// output (table, JSON, errors) and no log (--verbose) shows a query value.
    /// </summary>
    [Test]
    public async Task WebhookUrlsAreWrittenWholeButEveryOutputAndLogMasksTheirQueries()
    {
        const string ours = EventsUrl + "?code=FUNCTION-KEY-SECRET";
        Mailgun.SetWebhooks(Domain, new Dictionary<string, string[]>
        {
            ["clicked"] = ["https://analytics.example.net/hook?token=OTHER-TOKEN-SECRET&site=1"],
            ["opened"] = [EventsUrl + "?code=OLD-KEY-SECRET"],
        });

        var text = await RunAsync("setup", "webhooks", "--domain", Domain, "--url", ours, "--verbose");
        Mailgun.SetWebhooks(Domain, new Dictionary<string, string[]> { ["clicked"] = ["https://analytics.example.net/hook?token=OTHER-TOKEN-SECRET&site=1"] });
        var json = await RunAsync("setup", "webhooks", "--domain", Domain, "--url", ours, "--json", "--verbose");

        Assert.Multiple(() =>
        {
            Assert.That(text.ExitCode, Is.EqualTo(0), text.ToString());
            Assert.That(json.ExitCode, Is.EqualTo(0), json.ToString());
            Assert.That(Mailgun.Webhooks(Domain)["delivered"], Is.EqualTo(new[] { ours }), "Mailgun gets the whole URL");
            foreach (var run in new[] { text, json })
            {
                Assert.That(run.Stdout + run.Stderr, Does.Not.Contain("SECRET"), run.ToString());
            }

            Assert.That(text.Stdout, Does.Contain(EventsUrl + "?code=***"), "the masked URL still says which endpoint");
            Assert.That((string?)json.Json["url"], Is.EqualTo(EventsUrl + "?code=***"));
        });
    }

    [Test]
    public async Task AFullWebhookIsRefusedWithoutShowingTheOtherUrlsTokens()
    {
        Mailgun.SetWebhooks(Domain, new Dictionary<string, string[]>
        {
            ["complained"] = ["https://a.example.net/hook?key=A-SECRET", "https://b.example.net/hook?key=B-SECRET", "https://c.example.net/hook?key=C-SECRET"],
        });

        var run = await RunAsync("setup", "webhooks", "--domain", Domain, "--url", EventsUrl + "?code=FUNCTION-KEY-SECRET", "--verbose");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Refused), run.ToString());
        Assert.That(run.Stderr, Does.Contain("https://a.example.net/hook?key=***"));
        Assert.That(run.Stdout + run.Stderr, Does.Not.Contain("SECRET"));
    }

    [Test]
    public async Task MailgunNamingOurUrlInAnErrorDoesNotShowItsKey()
    {
        Mailgun.SetWebhooks(Domain, new Dictionary<string, string[]>());

        var run = await RunAsync("setup", "webhooks", "--domain", Domain, "--url", "https://app.example.invalid/api/mailgun/events?code=FUNCTION-KEY-SECRET", "--verbose");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Remote), run.ToString());
        Assert.That(run.Stderr, Does.Contain("is not reachable"), "Mailgun's answer is shown");
        Assert.That(run.Stdout + run.Stderr, Does.Not.Contain("SECRET"));
    }

    [Test]
    public async Task RouteOutputMasksTheForwardUrlsKey()
    {
        Mailgun.SetWebhooks(Domain, new Dictionary<string, string[]>());
        const string inbound = "https://app.example.net/api/mailgun/inbound?code=FUNCTION-KEY-SECRET&format=mime";

        var text = await RunAsync("setup", "route", "--domain", Domain, "--url", inbound, "--verbose");
        var json = await RunAsync("setup", "route", "--domain", Domain, "--url", inbound, "--json", "--verbose");

        Assert.That((text.ExitCode, json.ExitCode), Is.EqualTo((0, 0)), text + "\n" + json);
        Assert.That(Mailgun.Routes().Single(r => ((string?)r["description"])!.Contains(Domain, StringComparison.Ordinal))["actions"]![0]!.ToString(),
            Is.EqualTo($"forward(\"{inbound}\")"), "Mailgun gets the whole URL");
        Assert.That(text.Stdout + text.Stderr + json.Stdout + json.Stderr, Does.Not.Contain("SECRET"));
        Assert.That(text.Stdout, Does.Contain("inbound?code=***&format=***"));
    }

    [Test]
    public async Task AMistypedUrlIsRefusedWithoutEchoingItsKey()
    {
        var run = await RunAsync("setup", "webhooks", "--domain", Domain, "--url", "ftp://app.example.net/events?code=FUNCTION-KEY-SECRET");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.Stderr, Does.Contain("--url"));
        Assert.That(run.Stdout + run.Stderr, Does.Not.Contain("SECRET"));
    }

    [Test]
    public async Task WebhooksReplaceLeavesOnlyOurUrl()
    {
        Mailgun.SetWebhooks(Domain, new Dictionary<string, string[]> { ["complained"] = ["https://old-app.example.net/api/mailgun/events", EventsUrl] });

        var run = await RunAsync("setup", "webhooks", "--domain", Domain, "--url", EventsUrl, "--replace", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
        Assert.That(((JArray)run.Json["webhooks"]!).Single(w => (string?)w["webhook"] == "complained")["action"]!.ToString(), Is.EqualTo("replaced"));
        Assert.That(Mailgun.Webhooks(Domain)["complained"], Is.EqualTo(new[] { EventsUrl }));
    }

    /// <summary>
    /// As shipped (Webhooks__EngagementEvents off), opens and clicks are not subscribed: they change no DND state and are
    /// about a fifth of all events. A set-up that finds our URL on them takes it off, keeping other integrations' URLs,
    /// and deletes a subscription it leaves empty; `setup check` then names nothing missing.
    /// </summary>
    [Test]
    public async Task WithoutEngagementEventsOurUrlIsTakenOffOpensAndClicksAndTheCheckDoesNotAskForThem()
    {
        Mailgun.SetWebhooks(Domain, new Dictionary<string, string[]>
        {
            ["opened"] = ["https://app.example.net/api/mailgun/events?code=old-key", "https://analytics.example.net/hook"],
            ["clicked"] = [EventsUrl],
        });

        var first = await RunAsync("setup", "webhooks", "--domain", Domain, "--url", EventsUrl, "--json");
        int writesAfterFirst = Writes();
        var second = await RunAsync("setup", "webhooks", "--domain", Domain, "--url", EventsUrl, "--json");

        Assert.That(first.ExitCode, Is.EqualTo(0), first.ToString());
        var actions = ((JArray)first.Json["webhooks"]!).ToDictionary(w => (string)w["webhook"]!, w => (string)w["action"]!);
        var hooks = Mailgun.Webhooks(Domain);
        Assert.Multiple(() =>
        {
            Assert.That(actions["opened"], Is.EqualTo("removed"));
            Assert.That(actions["clicked"], Is.EqualTo("deleted"));
            Assert.That(hooks["opened"], Is.EqualTo(new[] { "https://analytics.example.net/hook" }), "another integration's URL is kept");
            Assert.That(hooks.ContainsKey("clicked"), Is.False, "a subscription left empty is deleted");
            foreach (string name in MailgunSetup.Subscribed(engagementEvents: false))
            {
                Assert.That(hooks[name], Is.EqualTo(new[] { EventsUrl }), name);
            }

            Assert.That(((JArray)second.Json["webhooks"]!).Select(w => (string?)w["action"]), Is.All.AnyOf("unchanged", "absent"));
            Assert.That(Writes(), Is.EqualTo(writesAfterFirst), "a second run changes nothing");
        });
    }

    [Test]
    public async Task WebhooksWithNoRoomForOurUrlRefuseBeforeWritingAnything()
    {
        string[] full = ["https://a.example.net/hook", "https://b.example.net/hook", "https://c.example.net/hook"];
        Mailgun.SetWebhooks(Domain, new Dictionary<string, string[]> { ["complained"] = full });
        int writesBefore = Writes();

        var run = await RunAsync("setup", "webhooks", "--domain", Domain, "--url", EventsUrl);

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Refused), run.ToString());
            Assert.That(run.Stderr, Does.Contain("complained").And.Contain("--replace"));
            Assert.That(Writes(), Is.EqualTo(writesBefore), "no webhook was created or changed");
            Assert.That(Mailgun.Webhooks(Domain)["complained"], Is.EqualTo(full));
        });
    }

    [Test]
    public async Task WebhooksWithABadKeyFail()
    {
        Mailgun.SetWebhooks(Domain, new Dictionary<string, string[]>());

        var run = await RunAsync(["setup", "webhooks", "--domain", Domain, "--url", EventsUrl], apiKey: "wrong");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Remote), run.ToString());
        Assert.That(run.Stderr, Does.Contain("refused the API key"));
    }

    [Test]
    public async Task WebhooksRejectARelativeUrl()
    {
        var run = await RunAsync("setup", "webhooks", "--domain", Domain, "--url", "/api/events");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage));
        Assert.That(run.Stderr, Does.Contain("--url"));
    }

    [Test]
    public async Task RouteIsCreatedOnceThenLeftAloneThenUpdated()
    {
        Mailgun.SetWebhooks(Domain, new Dictionary<string, string[]>());
        Mailgun.AddRoute(new JObject { ["priority"] = 0, ["description"] = "someone else's", ["expression"] = "catch_all()", ["actions"] = new JArray("stop()") });

        var first = await RunAsync("setup", "route", "--domain", Domain, "--url", "https://app.example.net/api/mailgun/inbound", "--json");
        var second = await RunAsync("setup", "route", "--domain", Domain, "--url", "https://app.example.net/api/mailgun/inbound", "--json");
        var moved = await RunAsync("setup", "route", "--domain", Domain, "--url", "https://new.example.net/api/mailgun/inbound", "--json");

        Assert.That((string?)first.Json["action"], Is.EqualTo("created"), first.ToString());
        Assert.That((string?)second.Json["action"], Is.EqualTo("unchanged"), second.ToString());
        Assert.That((string?)moved.Json["action"], Is.EqualTo("updated"), moved.ToString());
        var ours = Mailgun.Routes().Where(r => ((string?)r["description"])!.Contains(Domain, StringComparison.Ordinal)).ToList();
        Assert.That(ours, Has.Count.EqualTo(1));
        Assert.That((string?)ours[0]["expression"], Does.Contain(Domain.Replace(".", "\\.", StringComparison.Ordinal)));
        Assert.That(ours[0]["actions"]!.Select(a => (string?)a), Is.EqualTo(new[] { "forward(\"https://new.example.net/api/mailgun/inbound\")", "stop()" }));
        Assert.That(Mailgun.Routes(), Has.Count.EqualTo(2));
    }

    [Test]
    public async Task CheckDnsReportsMissingAndWrongRecords()
    {
        Mailgun.SetDomain(Domain, new JObject
        {
            ["domain"] = new JObject { ["name"] = Domain },
            ["sending_dns_records"] = new JArray(
                Record("TXT", Domain, "v=spf1 include:mailgun.org ~all"),
                Record("TXT", "pic._domainkey." + Domain, "k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"),
                Record("CNAME", "email." + Domain, "mailgun.org")),
            ["receiving_dns_records"] = new JArray(
                Record("MX", Domain, "mxa.mailgun.org", "10"),
                Record("MX", Domain, "mxb.mailgun.org", "10")),
        });
        Dns.Txt(Domain, "v=spf1 include:_spf.google.com include:mailgun.org ~all")
            .Txt("pic._domainkey." + Domain, "k=rsa; p=SOMETHINGELSE")
            .Mx(Domain, "mxa.mailgun.org.")
            .Mx(Domain, "mxb.mailgun.org.");

        var run = await RunAsync("setup", "check-dns", "--domain", Domain, "--json");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Problems), run.ToString());
        var status = ((JArray)run.Json["records"]!).ToDictionary(r => (string)r["type"]! + " " + (string)r["name"]! + " " + (string)r["expected"]!, r => (string)r["status"]!);
        Assert.That(status[$"TXT {Domain} v=spf1 include:mailgun.org ~all"], Is.EqualTo("ok"));
        Assert.That(status.Single(p => p.Key.Contains("_domainkey", StringComparison.Ordinal)).Value, Is.EqualTo("wrong"));
        Assert.That(status[$"CNAME email.{Domain} mailgun.org"], Is.EqualTo("missing"));
        Assert.That(status[$"MX {Domain} mxa.mailgun.org"], Is.EqualTo("ok"));
        Assert.That((int?)run.Json["problems"], Is.EqualTo(2));

        Dns.Cname("email." + Domain, "mailgun.org").Txt("pic._domainkey." + Domain, "k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC");
        var fixedRun = await RunAsync("setup", "check-dns", "--domain", Domain);
        Assert.That(fixedRun.ExitCode, Is.EqualTo(0), fixedRun.ToString());
        Assert.That(fixedRun.Stdout, Does.Contain("all records found"));
    }

    [Test]
    public async Task CheckDnsOfAnUnknownDomainFails()
    {
        Mailgun.SetWebhooks(Domain, new Dictionary<string, string[]>());

        var run = await RunAsync("setup", "check-dns", "--domain", Domain);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Remote), run.ToString());
        Assert.That(run.Stderr, Does.Contain("404"));
    }

    private int Writes() => Mailgun.Requests.Count(r => r.Method is "POST" or "PUT");

    /// <summary>One DNS record as <c>GET /v4/domains/{domain}</c> lists it (also for <see cref="SetupCheckCommandTests"/>).</summary>
    internal static JObject Record(string type, string name, string value, string? priority = null) => new()
    {
        ["record_type"] = type,
        ["name"] = name,
        ["value"] = value,
        ["priority"] = priority,
        ["valid"] = "unknown",
    };
}
