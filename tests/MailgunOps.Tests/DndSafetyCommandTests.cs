using Azure.Storage.Queues;
using MailgunFunctions;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunOps.Tests;

/// <summary>
/// The CLI's guards around changes only a contact may ask for, or that cannot be undone: re-enabling an unsubscribed
/// contact, a manual block, an address already clear, a bulk re-enable, discarding every poison message.
/// </summary>
[NonParallelizable]
public sealed class DndSafetyCommandTests : OpsHarness
{
    private void HostLists(string address)
    {
        Mailgun.SetList(Domain, "bounces", [new JObject { ["address"] = address, ["code"] = "550", ["error"] = "x", ["created_at"] = "Mon, 01 Jan 2024 00:00:00 UTC" }]);
        Mailgun.SetList(Domain, "unsubscribes", [new JObject { ["address"] = address, ["tags"] = new JArray("*"), ["created_at"] = "Mon, 01 Jan 2024 00:00:00 UTC" }]);
    }

    private async Task<(DndState State, long Version, List<DndHistoryRecord> History)> StoredAsync(string address)
    {
        await using var services = TestSettings.Services(TestSettings.Configuration(Storage), (s, c) => s.AddMailgunCore(c), TimeProvider.System);
        var store = services.GetRequiredService<DndStore>();
        var (_, status) = await store.GetStatusAsync(Tenant, address, default);
        var (_, announced, _) = await store.GetAnnouncedAsync(Tenant, address, default);
        var history = new List<DndHistoryRecord>();
        await foreach (var record in store.HistoryAsync(Tenant, address, default))
        {
            history.Add(record);
        }

        return (status.State, announced.Version, history);
    }

    [Test]
    public async Task Reenabling_an_unsubscribed_contact_needs_the_override_and_a_note_of_consent()
    {
        await ReplayAsync(SignedWebhook.Simple("unsubscribed", "uma@example.org", Recent(), domain: Domain));
        HostLists("uma@example.org");
        Dns.Mx("example.org", "mx.example.org");

        var refused = await RunAsync("dnd", "enable", "uma@example.org", "--domain", Domain, "--note", "asked nicely");
        bool listedAfterRefusal = Mailgun.ListContains(Domain, "unsubscribes", "uma@example.org");
        var stateAfterRefusal = (await StoredAsync("uma@example.org")).State;
        var allowed = await RunAsync("dnd", "enable", "uma@example.org", "--domain", Domain, "--note", "contact asked by phone 2026-11-20, ticket 9", "--override-unsubscribe", "--json");
        var stored = await StoredAsync("uma@example.org");

        Assert.Multiple(() =>
        {
            Assert.That(refused.ExitCode, Is.EqualTo(ExitCodes.Refused), refused.ToString());
            Assert.That(refused.Stderr, Does.Contain("unsubscribed").And.Contain("--override-unsubscribe"));
            Assert.That(listedAfterRefusal, Is.True, "a refusal changes nothing at Mailgun");
            Assert.That(stateAfterRefusal, Is.EqualTo(DndState.Permanent));
            Assert.That(allowed.ExitCode, Is.EqualTo(ExitCodes.Ok), allowed.ToString());
            Assert.That((bool?)allowed.Json["overrideUnsubscribe"], Is.True);
            Assert.That(stored.State, Is.EqualTo(DndState.None));
            Assert.That(stored.History[0].Explanation, Does.StartWith("unsubscribe override: ").And.Contain("ticket 9"));
            Assert.That(Mailgun.ListContains(Domain, "unsubscribes", "uma@example.org"), Is.False);
        });
    }

    [Test]
    public async Task A_bounce_needs_no_unsubscribe_override()
    {
        await ReplayAsync(SignedWebhook.Failed("bo@example.org", Recent(), domain: Domain));
        HostLists("bo@example.org");
        Dns.Mx("example.org", "mx.example.org");

        var run = await RunAsync("dnd", "enable", "bo@example.org", "--domain", Domain, "--note", "mailbox fixed");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.ToString());
    }

    [Test]
    public async Task Enabling_an_address_already_clear_says_so_changes_nothing_and_does_not_call_Mailgun()
    {
        // An entry whose DND an operator already cleared.
        await ReplayAsync(SignedWebhook.Failed("cy@example.org", Recent(), domain: Domain));
        HostLists("cy@example.org");
        Dns.Mx("example.org", "mx.example.org");
        Assert.That((await RunAsync("dnd", "enable", "cy@example.org", "--domain", Domain, "--note", "first")).ExitCode, Is.EqualTo(0));
        var before = await StoredAsync("cy@example.org");
        int requests = Mailgun.Requests.Count;

        var again = await RunAsync("dnd", "enable", "cy@example.org", "--domain", Domain, "--note", "second");
        var json = await RunAsync("dnd", "enable", "cy@example.org", "--domain", Domain, "--note", "third", "--json");
        var after = await StoredAsync("cy@example.org");

        Assert.Multiple(() =>
        {
            Assert.That(again.ExitCode, Is.EqualTo(ExitCodes.Ok), again.ToString());
            Assert.That(again.Stdout, Does.Contain("already clear").And.Contain("nothing changed").And.Not.Contain("->"));
            Assert.That((string?)json.Json["outcome"], Is.EqualTo("already-clear"));
            Assert.That(Mailgun.Requests.Count, Is.EqualTo(requests), "Mailgun is not called again");
            Assert.That((after.History.Count, after.Version), Is.EqualTo((before.History.Count, before.Version)), "no history, nothing announced");
        });
    }

    [Test]
    public async Task Block_sets_a_manual_dnd_with_operator_and_note_announced_and_guarded_like_an_unsubscribe()
    {
        Dns.Mx("example.org", "mx.example.org");
        var block = await RunAsync("dnd", "block", "Dora@Example.org", "--domain", Domain, "--note", "asked by phone 2026-11-25", "--actor", "ann", "--json");
        var stored = await StoredAsync("dora@example.org");
        var enable = await RunAsync("dnd", "enable", "dora@example.org", "--domain", Domain, "--note", "x");
        var noNote = await RunAsync("dnd", "block", "dora@example.org", "--domain", Domain);
        var invalid = await RunAsync("dnd", "block", "not-an-address", "--domain", Domain, "--note", "x");

        Assert.Multiple(() =>
        {
            Assert.That(block.ExitCode, Is.EqualTo(ExitCodes.Ok), block.ToString());
            Assert.That(((string?)block.Json["previous"], (string?)block.Json["current"]), Is.EqualTo(("none", "permanent")));
            Assert.That(stored.State, Is.EqualTo(DndState.Permanent));
            Assert.That(stored.Version, Is.EqualTo(1), "announced through the versioned write");
            Assert.That((long?)block.Json["version"], Is.EqualTo(1));
            Assert.That(stored.History.Single().Actor, Is.EqualTo("cli:ann"));
            Assert.That(stored.History.Single().Explanation, Is.EqualTo("asked by phone 2026-11-25"));
            Assert.That(stored.History.Single().Source, Is.EqualTo(DndChangeSource.Operator));
            Assert.That(enable.ExitCode, Is.EqualTo(ExitCodes.Refused), "a block on the contact's request is lifted only with their consent");
            Assert.That(noNote.ExitCode, Is.Not.EqualTo(ExitCodes.Ok));
            Assert.That(invalid.ExitCode, Is.EqualTo(ExitCodes.Refused), invalid.ToString());
            Assert.That(Mailgun.Requests, Is.Empty, "a block is ours: Mailgun's lists are not touched");
        });
    }

    [Test]
    public async Task Enable_file_reports_each_line_and_goes_on_after_a_refusal()
    {
        await ReplayAsync(
            SignedWebhook.Failed("ed@example.org", Recent(), domain: Domain),
            SignedWebhook.Simple("complained", "flo@example.org", Recent(), domain: Domain),
            SignedWebhook.Failed("gil@example.org", Recent(), domain: Domain));
        Mailgun.SetList(Domain, "bounces", new[] { "ed@example.org", "gil@example.org" }.Select(a => new JObject { ["address"] = a, ["code"] = "550", ["error"] = "x", ["created_at"] = "Mon, 01 Jan 2024 00:00:00 UTC" }));
        Dns.Mx("example.org", "mx.example.org");
        string file = Path.Combine(Work, "enable.txt");
        File.WriteAllLines(file, ["# re-enable after the mailbox migration", "ed@example.org", "", "flo@example.org", "nobody@example.org", "not an address", " GIL@example.org "]);

        var run = await RunAsync("dnd", "enable", "--file", file, "--domain", Domain, "--note", "migration done", "--json");
        var text = await RunAsync("dnd", "enable", "--file", file, "--domain", Domain, "--note", "again");
        var both = await RunAsync("dnd", "enable", "ed@example.org", "--file", file, "--domain", Domain, "--note", "x");

        Assert.Multiple(async () =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Problems), run.ToString());
            var lines = run.JsonLines.Select(l => $"{(int)l["line"]!} {(string?)l["outcome"]}");
            Assert.That(lines, Is.EqualTo(new[] { "2 applied", "4 locked", "5 not-found", "6 address-invalid", "7 applied" }), run.Stdout);
            Assert.That((await StoredAsync("ed@example.org")).State, Is.EqualTo(DndState.None));
            Assert.That((await StoredAsync("gil@example.org")).State, Is.EqualTo(DndState.None));
            Assert.That((await StoredAsync("flo@example.org")).State, Is.EqualTo(DndState.Locked));
            Assert.That(run.Stderr, Does.Contain("2 re-enabled, 0 already clear, 3 refused or failed"));
            Assert.That(text.Stdout, Does.Contain("line 2: ed@example.org in").And.Contain("already clear").And.Contain("line 4: flo@example.org: locked:"));
            Assert.That(both.ExitCode, Is.EqualTo(ExitCodes.Usage), both.ToString());
        });
    }

    [Test]
    public async Task Poison_discard_all_needs_yes_and_a_dry_run_changes_nothing()
    {
        var (_, poison) = await EmptyEventQueuesAsync();
        await poison.SendMessageAsync("{\"v\":1,\"eventId\":\"one\"}");
        await poison.SendMessageAsync("{\"v\":1,\"eventId\":\"two\"}");

        var unconfirmed = await RunAsync("poison", "discard", "--all", "--queue", "events");
        var dry = await RunAsync("poison", "discard", "--all", "--queue", "events", "--dry-run", "--json");
        var kept = await RunAsync("poison", "list", "--queue", "events", "--json");
        var confirmed = await RunAsync("poison", "discard", "--all", "--queue", "events", "--yes");
        var left = await RunAsync("poison", "list", "--queue", "events", "--json");

        Assert.Multiple(() =>
        {
            Assert.That(unconfirmed.ExitCode, Is.EqualTo(ExitCodes.Usage), unconfirmed.ToString());
            Assert.That(unconfirmed.Stderr, Does.Contain("--yes").And.Contain("--dry-run"));
            Assert.That(dry.ExitCode, Is.EqualTo(ExitCodes.Ok), dry.ToString());
            Assert.That(dry.JsonLines.Select(l => (string?)l["action"]), Is.EqualTo(new[] { "would-discard", "would-discard" }));
            Assert.That(kept.JsonLines, Has.Count.EqualTo(2), "neither the refusal nor the dry run deleted anything");
            Assert.That(confirmed.ExitCode, Is.EqualTo(ExitCodes.Ok), confirmed.ToString());
            Assert.That(left.Stdout.Trim(), Is.Empty);
        });
    }
}
