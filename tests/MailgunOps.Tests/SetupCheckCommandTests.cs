using MailgunFunctions.Tenants;
using Newtonsoft.Json.Linq;

namespace MailgunOps.Tests;

/// <summary>
/// <c>setup check</c> against the Mailgun fake and the in-test DNS server: a domain set up by the product's own commands
/// passes, and each thing the platform's guide asks for, when missing, shows as a failure or a warning with its exit code.
/// </summary>
[NonParallelizable]
public sealed class SetupCheckCommandTests : OpsHarness
{
    private static readonly Uri App = new("https://app.example.net");

    /// <summary>Mailgun's view of the domain: its state, the records it expects (MX at two priorities), its unsubscribe link on.</summary>
    private void HostDomain(string state)
    {
        Mailgun.SetDomain(Domain, new JObject
        {
            ["domain"] = new JObject { ["name"] = Domain, ["state"] = state },
            ["sending_dns_records"] = new JArray(
                SetupCommandTests.Record("TXT", Domain, "v=spf1 include:mailgun.org ~all"),
                SetupCommandTests.Record("TXT", "k1._domainkey." + Domain, "k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC"),
                SetupCommandTests.Record("CNAME", "email." + Domain, "mailgun.org")),
            ["receiving_dns_records"] = new JArray(
                SetupCommandTests.Record("MX", Domain, "mxa.mailgun.org", "10"),
                SetupCommandTests.Record("MX", Domain, "mxb.mailgun.org", "20")),
        });
        Mailgun.SetTracking(Domain, unsubscribe: true);
    }

    /// <summary>A domain as Mailgun and DNS have it once the guide's steps were followed, set up with the product's own commands.</summary>
    private async Task SetUpWellAsync(string state = "active")
    {
        HostDomain(state);
        Dns.Txt(Domain, "v=spf1 include:mailgun.org ~all")
            .Txt("k1._domainkey." + Domain, "k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC")
            .Cname("email." + Domain, "mailgun.org")
            .Mx(Domain, "mxa.mailgun.org.", 10)
            .Mx(Domain, "mxb.mailgun.org.", 20);
        Assert.That((await RunAsync("tenant", "set", "--tenant", Tenant, "--app-url", App.AbsoluteUri)).ExitCode, Is.EqualTo(0));
        Assert.That((await RunAsync("setup", "webhooks", "--tenant", Tenant, "--domain", Domain, "--url", TenantUrls.Events(App, Tenant).AbsoluteUri + "?code=k")).ExitCode, Is.EqualTo(0));
        Assert.That((await RunAsync("setup", "route", "--tenant", Tenant, "--domain", Domain, "--url", TenantUrls.Inbound(App, Tenant).AbsoluteUri + "?code=k")).ExitCode, Is.EqualTo(0));
    }

    private static Dictionary<string, string> Statuses(OpsRun run) =>
        ((JArray)run.Json["domains"]![0]!["items"]!).ToDictionary(i => $"{(string)i["area"]!} {(string)i["name"]!}", i => (string)i["status"]!);

    [Test]
    public async Task A_domain_set_up_as_the_guide_asks_passes_every_check()
    {
        await SetUpWellAsync();

        var run = await RunAsync("setup", "check", "--tenant", Tenant, "--json");
        var text = await RunAsync("setup", "check", "--tenant", Tenant);

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.ToString());
            var statuses = Statuses(run);
            Assert.That(statuses.Values, Is.All.EqualTo("ok"), run.Stdout);
            Assert.That(statuses.Keys, Does.Contain($"dns TXT k1._domainkey.{Domain}").And.Contain($"dns MX {Domain} mxb.mailgun.org").And.Contain("verification state")
                .And.Contain("tracking unsubscribe").And.Contain("webhook permanent_fail").And.Contain("route reply"));
            Assert.That((string?)run.Json["domains"]![0]!["state"], Is.EqualTo("active"));
            Assert.That(run.Stdout, Does.Not.Contain("code=k"), "function keys are masked");
            Assert.That(text.ExitCode, Is.EqualTo(ExitCodes.Ok), text.ToString());
            Assert.That(text.Stdout, Does.Contain("all checks ok"));
        });
    }

    [Test]
    public async Task Mailguns_unsubscribe_link_off_is_a_warning_exit_8()
    {
        await SetUpWellAsync();
        Mailgun.SetTracking(Domain, unsubscribe: false);

        var run = await RunAsync("setup", "check", "--tenant", Tenant, "--domain", Domain, "--json");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Warnings), run.ToString());
            Assert.That(Statuses(run)["tracking unsubscribe"], Is.EqualTo("warn"));
            Assert.That((int?)run.Json["failures"], Is.Zero);
            Assert.That((int?)run.Json["warnings"], Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Our_url_left_on_opens_while_engagement_events_are_off_is_a_warning_and_clicks_are_not_asked_for()
    {
        await SetUpWellAsync();
        // A set-up made while engagement events were on: our URL is still on "opened".
        var hooks = Mailgun.Webhooks(Domain).ToDictionary(h => h.Key, h => h.Value);
        hooks["opened"] = [TenantUrls.Events(App, Tenant).AbsoluteUri + "?code=k"];
        Mailgun.SetWebhooks(Domain, hooks);

        var run = await RunAsync("setup", "check", "--tenant", Tenant, "--domain", Domain, "--json");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Warnings), run.ToString());
            var statuses = Statuses(run);
            Assert.That(statuses["webhook opened"], Is.EqualTo("warn"));
            Assert.That(statuses.Keys, Does.Not.Contain("webhook clicked"), "not subscribed, not asked for");
            Assert.That((int?)run.Json["failures"], Is.Zero);
        });
    }

    [Test]
    public async Task A_wrong_MX_priority_a_missing_webhook_and_a_route_without_stop_fail_exit_7()
    {
        await SetUpWellAsync();
        Dns.Clear();
        Dns.Txt(Domain, "v=spf1 include:mailgun.org ~all")
            .Txt("k1._domainkey." + Domain, "k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC")
            .Cname("email." + Domain, "mailgun.org")
            .Mx(Domain, "mxa.mailgun.org.", 10)
            .Mx(Domain, "mxb.mailgun.org.", 10);
        // Mailgun as before, but one webhook gone and the route without its stop().
        var hooks = Mailgun.Webhooks(Domain).Where(h => h.Key != "complained").ToDictionary(h => h.Key, h => h.Value);
        var route = Mailgun.Routes().Single();
        route.Remove("id");
        route["actions"] = new JArray(route["actions"]!.First!);
        Mailgun.Reset();
        HostDomain("active");
        Mailgun.SetWebhooks(Domain, hooks);
        Mailgun.AddRoute(route);

        var run = await RunAsync("setup", "check", "--tenant", Tenant, "--json");
        var text = await RunAsync("setup", "check", "--tenant", Tenant);

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Problems), run.ToString());
            var items = ((JArray)run.Json["domains"]![0]!["items"]!).ToDictionary(i => $"{(string)i["area"]!} {(string)i["name"]!} {(string)i["detail"]!}", i => (string)i["status"]!);
            Assert.That(items.Single(i => i.Key.StartsWith("dns MX", StringComparison.Ordinal) && i.Key.Contains("mxb", StringComparison.Ordinal)).Value, Is.EqualTo("fail"), "mxb is there at 10, Mailgun asks 20");
            Assert.That(items.Single(i => i.Key.StartsWith("dns MX", StringComparison.Ordinal) && !i.Key.Contains("mxb", StringComparison.Ordinal)).Value, Is.EqualTo("ok"));
            Assert.That(items.Single(i => i.Key.StartsWith("webhook complained", StringComparison.Ordinal)).Value, Is.EqualTo("fail"));
            Assert.That(items.Single(i => i.Key.StartsWith("route reply", StringComparison.Ordinal)).Key, Does.Contain("stop()"));
            Assert.That((int?)run.Json["failures"], Is.EqualTo(3));
            Assert.That(text.Stdout, Does.Contain("3 failing"));
        });
    }

    [Test]
    public async Task An_unverified_domain_fails_until_verify_asks_Mailgun_again()
    {
        await SetUpWellAsync(state: "unverified");
        Mailgun.SetStateAfterVerify(Domain, "active");

        var before = await RunAsync("setup", "check", "--tenant", Tenant, "--json");
        int verifiesBefore = Mailgun.Requests.Count(r => r.Method == "PUT" && r.RawTarget.EndsWith("/verify", StringComparison.Ordinal));
        var verified = await RunAsync("setup", "check", "--tenant", Tenant, "--verify", "--json");

        Assert.Multiple(() =>
        {
            Assert.That(before.ExitCode, Is.EqualTo(ExitCodes.Problems), before.ToString());
            Assert.That(Statuses(before)["verification state"], Is.EqualTo("fail"));
            Assert.That(verifiesBefore, Is.Zero, "without --verify nothing is asked of Mailgun but reads");
            Assert.That(verified.ExitCode, Is.EqualTo(ExitCodes.Ok), verified.ToString());
            Assert.That((string?)verified.Json["domains"]![0]!["state"], Is.EqualTo("active"));
        });
    }

    [Test]
    public async Task Mailgun_unreachable_is_exit_5_and_an_unknown_domain_of_the_tenant_exit_2()
    {
        await SetUpWellAsync();
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var down = new Uri($"http://127.0.0.1:{((System.Net.IPEndPoint)closed.LocalEndpoint).Port}/");
        closed.Stop();

        var unreachable = await RunAsync(["setup", "check", "--tenant", Tenant], mailgunUrl: down);
        var unknown = await RunAsync("setup", "check", "--tenant", Tenant, "--domain", "not-ours.example.com");

        Assert.Multiple(() =>
        {
            Assert.That(unreachable.ExitCode, Is.EqualTo(ExitCodes.Remote), unreachable.ToString());
            Assert.That(unknown.ExitCode, Is.EqualTo(ExitCodes.NotFound).Or.EqualTo(ExitCodes.Usage), unknown.ToString());
        });
    }
}
