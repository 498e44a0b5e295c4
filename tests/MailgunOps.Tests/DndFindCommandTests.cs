using MailgunFunctions;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunOps.Tests;

/// <summary>
/// <c>dnd find</c> by address prefix and contact id, <c>dnd list --all-tenants</c> and <c>dnd list --sort</c>: an operator's
/// searches, which stay in the tenant named unless --all-tenants is said.
/// </summary>
[NonParallelizable]
public sealed class DndFindCommandTests : OpsHarness
{
    private async Task<string> OtherTenantAsync()
    {
        string other = TestTenants.NewId("oth");
        await using var services = TestSettings.Services(TestSettings.Configuration(Storage), (s, c) => s.AddMailgunCore(c), TimeProvider.System);
        await TestTenants.RegisterAsync(services, other, TestSettings.SigningKey, [other + ".example.com"]);
        return other;
    }

    private async Task ReplayToAsync(string tenant, params JObject[] events)
    {
        var run = await RunAsync("replay", "--file", WriteLines(events), "--tenant", tenant, "--json");
        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.ToString());
    }

    private static JObject WithContact(JObject e, string contactId)
    {
        e["user-variables"] = new JObject { ["contactId"] = contactId };
        return e;
    }

    [Test]
    public async Task Find_by_prefix_returns_the_tenants_addresses_starting_with_it_in_any_state_and_nobody_elses()
    {
        string other = await OtherTenantAsync();
        await ReplayToAsync(Tenant,
            SignedWebhook.Failed("jo1@example.org", Recent()),
            SignedWebhook.Simple("complained", "john@example.org", Recent()),
            SignedWebhook.Simple("delivered", "joy@example.org", Recent()),
            SignedWebhook.Failed("ann@example.org", Recent()),
            SignedWebhook.Failed("j@example.org", Recent()));
        await ReplayToAsync(other, SignedWebhook.Failed("jo9@example.org", Recent()));

        var found = await RunAsync("dnd", "find", "--tenant", Tenant, "--prefix", "JO", "--json");
        var table = await RunAsync("dnd", "find", "--domain", Domain, "--prefix", "jo");
        var none = await RunAsync("dnd", "find", "--tenant", Tenant, "--prefix", "zz");

        Assert.That(found.ExitCode, Is.EqualTo(ExitCodes.Ok), found.ToString());
        Assert.That(found.JsonLines.Select(l => (string?)l["address"]), Is.EqualTo(new[] { "jo1@example.org", "john@example.org", "joy@example.org" }));
        Assert.That(found.JsonLines.Select(l => (string?)l["state"]), Is.EqualTo(new[] { "permanent", "locked", "none" }));
        Assert.That(table.Stdout, Does.StartWith("ADDRESS").And.Contain("john@example.org").And.Not.Contain("jo9@").And.Not.Contain("TENANT"));
        Assert.That(none.ExitCode, Is.EqualTo(ExitCodes.NotFound), none.ToString());
        Assert.That(none.Stderr, Does.Contain($"no entry in tenant '{Tenant}' has an address starting with 'zz'"));
    }

    [Test]
    public async Task Find_by_contact_id_stays_in_the_tenant_unless_all_tenants_is_given()
    {
        string other = await OtherTenantAsync();
        await ReplayToAsync(Tenant,
            WithContact(SignedWebhook.Failed("kim@example.org", Recent()), "c-77"),
            WithContact(SignedWebhook.Failed("lee@example.org", Recent()), "c-78"));
        await ReplayToAsync(other, WithContact(SignedWebhook.Failed("kim@other.example", Recent()), "c-77"));

        var mine = await RunAsync("dnd", "find", "--tenant", Tenant, "--contact-id", "c-77", "--json");
        var everywhere = await RunAsync("dnd", "find", "--all-tenants", "--contact-id", "c-77", "--json");
        var table = await RunAsync("dnd", "find", "--all-tenants", "--contact-id", "c-77");

        Assert.That(mine.ExitCode, Is.EqualTo(ExitCodes.Ok), mine.ToString());
        Assert.That(mine.JsonLines.Select(l => (string?)l["address"]), Is.EqualTo(new[] { "kim@example.org" }));
        var mineAndOther = everywhere.JsonLines.Where(l => (string?)l["tenant"] == Tenant || (string?)l["tenant"] == other).Select(l => $"{l["tenant"]} {l["address"]}");
        Assert.That(mineAndOther, Is.EquivalentTo(new[] { $"{Tenant} kim@example.org", $"{other} kim@other.example" }));
        Assert.That(everywhere.JsonLines.Select(l => (string?)l["contactId"]), Is.All.EqualTo("c-77"));
        Assert.That(table.Stdout, Does.StartWith("TENANT").And.Contain(other));
    }

    [TestCase]
    [TestCase("--prefix", "a", "--contact-id", "c")]
    [TestCase("--prefix", " ")]
    public async Task Find_needs_exactly_one_of_prefix_and_contact_id(params string[] what)
    {
        var run = await RunAsync(["dnd", "find", "--tenant", Tenant, .. what]);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Usage), run.ToString());
        Assert.That(run.Stderr, Does.Contain("--prefix <start of the address> or --contact-id <id>"));
    }

    [Test]
    public async Task All_tenants_cannot_be_mixed_with_naming_one_and_a_tenant_or_all_tenants_is_needed()
    {
        var both = await RunAsync("dnd", "find", "--all-tenants", "--tenant", Tenant, "--prefix", "a");
        var neither = await RunAsync("dnd", "find", "--prefix", "a");
        var listBoth = await RunAsync("dnd", "list", "--all-tenants", "--domain", Domain);

        Assert.That(both.ExitCode, Is.EqualTo(ExitCodes.Usage), both.ToString());
        Assert.That(both.Stderr, Does.Contain("--all-tenants and --tenant/--domain: choose one"));
        Assert.That(neither.ExitCode, Is.EqualTo(ExitCodes.Usage), neither.ToString());
        Assert.That(neither.Stderr, Does.Contain("name the tenant"));
        Assert.That(listBoth.ExitCode, Is.EqualTo(ExitCodes.Usage), listBoth.ToString());
    }

    [Test]
    public async Task List_all_tenants_streams_tenant_by_tenant_with_the_tenant_and_continues_across_them()
    {
        string other = await OtherTenantAsync();
        await ReplayToAsync(Tenant, SignedWebhook.Failed("m1@example.org", Recent()), SignedWebhook.Failed("m2@example.org", Recent()));
        await ReplayToAsync(other, SignedWebhook.Failed("m3@example.org", Recent()));

        var all = await RunAsync("dnd", "list", "--all-tenants", "--json");
        var csv = await RunAsync("dnd", "list", "--all-tenants", "--csv");

        Assert.That(all.ExitCode, Is.EqualTo(ExitCodes.Ok), all.ToString());
        var ours = all.JsonLines.Where(l => (string?)l["tenant"] == Tenant || (string?)l["tenant"] == other).Select(l => $"{l["tenant"]} {l["address"]}").ToList();
        Assert.That(ours, Is.EquivalentTo(new[] { $"{Tenant} m1@example.org", $"{Tenant} m2@example.org", $"{other} m3@example.org" }));
        // Tenant by tenant: each tenant's rows come together.
        var tenants = all.JsonLines.Select(l => (string)l["tenant"]!).ToList();
        Assert.That(tenants.Where((t, i) => i > 0 && t != tenants[i - 1]).Count(), Is.EqualTo(tenants.Distinct().Count() - 1), "a tenant's rows are never split");
        Assert.That(csv.Stdout, Does.StartWith("\"tenant\",\"address\",\"state\""));

        // A page of one, then the rest from its token: the second entry of the whole listing comes next, none is skipped.
        var first = await RunAsync("dnd", "list", "--all-tenants", "--limit", "1", "--json");
        string next = System.Text.RegularExpressions.Regex.Match(first.Stderr, "--continue (\\S+)").Groups[1].Value;
        var rest = await RunAsync("dnd", "list", "--all-tenants", "--limit", "1", "--continue", next, "--json");
        Assert.That(first.JsonLines.Concat(rest.JsonLines).Select(l => $"{l["tenant"]} {l["address"]}"),
            Is.EqualTo(all.JsonLines.Take(2).Select(l => $"{l["tenant"]} {l["address"]}")));
    }

    [Test]
    public async Task List_sorts_by_since_newest_first_by_state_most_binding_first_and_by_address()
    {
        await ReplayToAsync(Tenant,
            SignedWebhook.Failed("b-old@example.org", Recent(300)),
            SignedWebhook.Simple("complained", "c-mid@example.org", Recent(200)),
            SignedWebhook.Failed("a-new@example.org", Recent(100)),
            SignedWebhook.Failed("d-soft@example.org", Recent(50), code: 452, message: "4.2.2 Mailbox full", severity: "temporary"));

        var bySince = await RunAsync("dnd", "list", "--tenant", Tenant, "--sort", "since", "--json");
        var byState = await RunAsync("dnd", "list", "--tenant", Tenant, "--sort", "state", "--json");
        var byAddress = await RunAsync("dnd", "list", "--tenant", Tenant, "--sort", "address", "--limit", "2", "--json");
        var withContinue = await RunAsync("dnd", "list", "--tenant", Tenant, "--sort", "since", "--continue", "eA");

        static IEnumerable<string?> Addresses(OpsRun run) => run.JsonLines.Select(l => (string?)l["address"]);
        Assert.That(bySince.ExitCode, Is.EqualTo(ExitCodes.Ok), bySince.ToString());
        var states = byState.JsonLines.Select(l => (string?)l["state"]).ToList();
        Assert.That(Addresses(bySince).Take(3), Is.EqualTo(new[] { "d-soft@example.org", "a-new@example.org", "c-mid@example.org" }).Or.EqualTo(new[] { "a-new@example.org", "c-mid@example.org", "b-old@example.org" }),
            "newest DND first (the soft bounce's DND may not have begun, then it is not listed)");
        Assert.That(states, Is.EqualTo(states.OrderByDescending(s => s switch { "locked" => 3, "permanent" => 2, "temporary" => 1, _ => 0 }).ToList()));
        Assert.That(states[0], Is.EqualTo("locked"));
        Assert.That(Addresses(byAddress), Is.EqualTo(new[] { "a-new@example.org", "b-old@example.org" }));
        Assert.That(withContinue.ExitCode, Is.EqualTo(ExitCodes.Usage), withContinue.ToString());
    }
}
