using System.Net;
using MailgunFunctions.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunOps.Tests;

/// <summary>
/// <c>dnd enable</c> completing the platform's re-enable: an address suppressed only at Mailgun (no DND entry here) is looked
/// up on the tenant's lists and cleared there under the same consent rules, and a tenant that opted in validates with
/// Mailgun's email validation API (the fake's <c>/v4/address/validate</c>) instead of the DNS check.
/// </summary>
[NonParallelizable]
public sealed class DndEnableAtMailgunCommandTests : OpsHarness
{
    private static JObject Bounce(string address) => new() { ["address"] = address, ["code"] = "550", ["error"] = "x", ["created_at"] = "Mon, 01 Jan 2024 00:00:00 UTC" };

    private static JObject Unsubscribe(string address) => new() { ["address"] = address, ["tags"] = new JArray("*"), ["created_at"] = "Mon, 01 Jan 2024 00:00:00 UTC" };

    private static JObject Complaint(string address) => new() { ["address"] = address, ["created_at"] = "Mon, 01 Jan 2024 00:00:00 UTC" };

    [Test]
    public async Task An_address_bounced_only_at_Mailgun_is_looked_up_validated_and_deleted_there()
    {
        Mailgun.SetList(Domain, "bounces", [Bounce("ola@example.org")]);
        Dns.Mx("example.org", "mx.example.org");

        var run = await RunAsync("dnd", "enable", "ola@example.org", "--domain", Domain, "--note", "bounced before we moved here", "--json");
        int lookups = Mailgun.Requests.Count(r => r.Method == "GET" && r.RawTarget.Contains("/ola%40example.org", StringComparison.Ordinal));
        var text = await RunAsync("dnd", "enable", "ola@example.org", "--domain", Domain, "--note", "again");
        var get = await RunAsync("dnd", "get", "ola@example.org", "--domain", Domain);

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(0), run.ToString());
            Assert.That((string?)run.Json["outcome"], Is.EqualTo("cleared-at-mailgun"));
            Assert.That(((string?)run.Json["previous"], (string?)run.Json["current"]), Is.EqualTo(("none", "none")), "no entry here, nothing cleared here");
            Assert.That((bool?)run.Json["mailgunRemoved"]!["bounces"], Is.True);
            Assert.That((string?)run.Json["validation"]!["validator"], Is.EqualTo("dns"));
            Assert.That(Mailgun.ListContains(Domain, "bounces", "ola@example.org"), Is.False);
            Assert.That(lookups, Is.EqualTo(3), "one single-address look-up per list");
            Assert.That(text.ExitCode, Is.EqualTo(ExitCodes.NotFound), "once deleted there is nothing left to re-enable: " + text);
            Assert.That(text.Stderr, Does.Contain("none of Mailgun's bounces, unsubscribes or complaints"));
            Assert.That(get.ExitCode, Is.EqualTo(ExitCodes.NotFound), "no DND entry was made: " + get);
        });
    }

    [Test]
    public async Task Mailgun_complaints_and_unsubscribes_need_the_same_overrides_as_DND_entries()
    {
        Mailgun.SetList(Domain, "complaints", [Complaint("pia@example.org")]);
        Mailgun.SetList(Domain, "unsubscribes", [Unsubscribe("quin@example.org")]);
        Dns.Mx("example.org", "mx.example.org");

        var complaint = await RunAsync("dnd", "enable", "pia@example.org", "--domain", Domain, "--note", "asked nicely");
        var unsubscribe = await RunAsync("dnd", "enable", "quin@example.org", "--domain", Domain, "--note", "asked nicely");
        bool keptAfterRefusals = Mailgun.ListContains(Domain, "complaints", "pia@example.org") && Mailgun.ListContains(Domain, "unsubscribes", "quin@example.org");
        int deletesAfterRefusals = Mailgun.Requests.Count(r => r.Method == "DELETE");
        var overridden = await RunAsync("dnd", "enable", "pia@example.org", "--domain", Domain, "--note", "renewed consent form 8", "--override-complaint", "--json");
        var consented = await RunAsync("dnd", "enable", "quin@example.org", "--domain", Domain, "--note", "asked by letter 2026-11-30", "--override-unsubscribe", "--json");

        Assert.Multiple(() =>
        {
            Assert.That(complaint.ExitCode, Is.EqualTo(ExitCodes.Refused), complaint.ToString());
            Assert.That(complaint.Stderr, Does.Contain("Mailgun's complaints list").And.Contain("--override-complaint"));
            Assert.That(unsubscribe.ExitCode, Is.EqualTo(ExitCodes.Refused), unsubscribe.ToString());
            Assert.That(unsubscribe.Stderr, Does.Contain("Mailgun's unsubscribes list").And.Contain("--override-unsubscribe"));
            Assert.That(keptAfterRefusals, Is.True, "a refusal changes nothing at Mailgun");
            Assert.That(deletesAfterRefusals, Is.Zero);
            Assert.That(overridden.ExitCode, Is.EqualTo(0), overridden.ToString());
            Assert.That(Mailgun.ListContains(Domain, "complaints", "pia@example.org"), Is.False);
            Assert.That(consented.ExitCode, Is.EqualTo(0), consented.ToString());
            Assert.That(Mailgun.ListContains(Domain, "unsubscribes", "quin@example.org"), Is.False);
        });
    }

    [Test]
    public async Task Mailgun_validation_is_a_tenant_opt_in_shown_by_tenant_show()
    {
        var before = await RunAsync("tenant", "show", "--tenant", Tenant, "--json");
        var on = await RunAsync("tenant", "set", "--tenant", Tenant, "--mailgun-validation", "on");
        var shownOn = await RunAsync("tenant", "show", "--tenant", Tenant);
        var bad = await RunAsync("tenant", "set", "--tenant", Tenant, "--mailgun-validation", "maybe");
        var off = await RunAsync("tenant", "set", "--tenant", Tenant, "--mailgun-validation", "off");
        var after = await RunAsync("tenant", "show", "--tenant", Tenant, "--json");

        Assert.Multiple(() =>
        {
            Assert.That((string?)before.Json["mailgunValidation"], Is.EqualTo("off"), before.ToString());
            Assert.That(on.ExitCode, Is.EqualTo(0), on.ToString());
            Assert.That(shownOn.Stdout, Does.Contain("validation:      mailgun"));
            Assert.That(bad.ExitCode, Is.EqualTo(ExitCodes.Usage), bad.ToString());
            Assert.That(off.ExitCode, Is.EqualTo(0), off.ToString());
            Assert.That((string?)after.Json["mailgunValidation"], Is.EqualTo("off"));
        });
    }

    [Test]
    public async Task With_Mailgun_validation_an_undeliverable_address_is_refused_with_Mailguns_reasons_and_nothing_changes()
    {
        Assert.That((await RunAsync("tenant", "set", "--tenant", Tenant, "--mailgun-validation", "on")).ExitCode, Is.EqualTo(0));
        await ReplayAsync(SignedWebhook.Failed("rae@example.org", Recent(), domain: Domain));
        Mailgun.SetList(Domain, "bounces", [Bounce("rae@example.org")]);
        // DNS would accept the address: only Mailgun's answer can refuse it.
        Dns.Mx("example.org", "mx.example.org");
        Mailgun.SetValidation("rae@example.org", "undeliverable", "high", "mailbox_does_not_exist");

        var run = await RunAsync("dnd", "enable", "rae@example.org", "--domain", Domain, "--note", "x", "--json");
        var get = await RunAsync("dnd", "get", "rae@example.org", "--domain", Domain, "--json");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Refused), run.ToString());
            Assert.That((string?)run.Json["validation"]!["validator"], Is.EqualTo("mailgun"));
            Assert.That((string?)run.Json["validation"]!["result"], Is.EqualTo("undeliverable"));
            Assert.That(run.Json["validation"]!["reasons"]!.Values<string>(), Is.EqualTo(new[] { "mailbox_does_not_exist" }));
            Assert.That(run.Stderr, Does.Contain("mailbox_does_not_exist").And.Contain("validator: mailgun"));
            Assert.That(Mailgun.ValidationRequests("rae@example.org"), Is.EqualTo(1));
            Assert.That(Mailgun.ListContains(Domain, "bounces", "rae@example.org"), Is.True, "refused before any change at Mailgun");
            Assert.That((string?)get.Json["entry"]!["state"], Is.EqualTo("permanent"));
        });
    }

    [TestCase("deliverable", 0, "mailgun")]
    [TestCase("catch_all", 0, "mailgun")]
    [TestCase("do_not_send", ExitCodes.Refused, "mailgun")]
    [TestCase("unknown", ExitCodes.Refused, "mailgun+dns")]
    public async Task Each_Mailgun_result_decides_as_documented(string result, int exitCode, string validator)
    {
        Assert.That((await RunAsync("tenant", "set", "--tenant", Tenant, "--mailgun-validation", "on")).ExitCode, Is.EqualTo(0));
        // The domain has no MX, A or AAAA record: where the DNS rule decides ("unknown"), it refuses.
        string address = "sam@no-records.example";
        Mailgun.SetList(Domain, "bounces", [Bounce(address)]);
        Mailgun.SetValidation(address, result, "medium");

        var run = await RunAsync("dnd", "enable", address, "--domain", Domain, "--note", "x");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(exitCode), run.ToString());
            Assert.That(run.Stdout + run.Stderr, Does.Contain(validator == "mailgun" && exitCode == 0 ? $"validated by: mailgun (result '{result}'" : validator));
            Assert.That(Mailgun.ListContains(Domain, "bounces", address), Is.EqualTo(exitCode != 0));
        });
    }

    [Test]
    public async Task When_Mailgun_validation_fails_the_command_exits_remote_and_changes_nothing()
    {
        Assert.That((await RunAsync("tenant", "set", "--tenant", Tenant, "--mailgun-validation", "on")).ExitCode, Is.EqualTo(0));
        await ReplayAsync(SignedWebhook.Failed("tia@example.org", Recent(), domain: Domain));
        Mailgun.SetList(Domain, "bounces", [Bounce("tia@example.org")]);
        Dns.Mx("example.org", "mx.example.org");
        Mailgun.Fail("account", "validate", 0, HttpStatusCode.ServiceUnavailable, times: 10);

        var run = await RunAsync("dnd", "enable", "tia@example.org", "--domain", Domain, "--note", "x");
        var get = await RunAsync("dnd", "get", "tia@example.org", "--domain", Domain, "--json");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Remote), run.ToString());
            Assert.That(run.Stderr, Does.Contain("email validation failed").And.Contain("Nothing was changed"));
            Assert.That(Mailgun.ListContains(Domain, "bounces", "tia@example.org"), Is.True);
            Assert.That((string?)get.Json["entry"]!["state"], Is.EqualTo("permanent"));
        });
    }
}
