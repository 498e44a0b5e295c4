using System.Net;
using Azure.Storage.Queues;
using MailgunFunctions;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Dnd;
using MailgunFunctions.MailgunApi;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunOps.Tests;

/// <summary>
/// The built tool as a real process, once per command family, each asserted by its effect (table rows, the Mailgun fake's
/// request log, queue contents), not by its exit code alone: what an operator's shell gets, with the retry settings that ship.
/// <c>classify</c> runs as a process in <see cref="ProcessTests"/>; <c>webhook send-sample</c> against the real worker in the
/// end-to-end tests (PipelineTests).
/// </summary>
[NonParallelizable]
public sealed class ProcessEffectTests : OpsHarness
{
    private static readonly string BasicAuthorization = "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("api:" + TestSettings.ApiKey));

    private ServiceProvider Core() => TestSettings.Services(TestSettings.Configuration(Storage), (s, c) => s.AddMailgunCore(c), TimeProvider.System);

    private async Task<DndState> StateAsync(string address)
    {
        await using var services = Core();
        return (await services.GetRequiredService<DndStore>().GetStatusAsync(Tenant, address, CancellationToken.None)).Status.State;
    }

    [Test]
    public async Task Replay_and_dnd_enable_as_processes_write_the_entry_then_clear_it_and_delete_it_at_Mailgun()
    {
        string address = $"proc.{Guid.NewGuid():N}@example.org";
        var replay = await RunProcessAsync(["replay", "--file", WriteLines(SignedWebhook.Failed(address, Recent(), domain: Domain)), "--json"]);
        Assert.That(replay.ExitCode, Is.EqualTo(ExitCodes.Ok), replay.ToString());
        Assert.That(await StateAsync(address), Is.EqualTo(DndState.Permanent), "replay wrote the entry");

        foreach (string list in new[] { "bounces", "unsubscribes", "complaints" })
        {
            Mailgun.SetList(Domain, list, [new JObject { ["address"] = address, ["code"] = "550", ["error"] = "x", ["created_at"] = "Mon, 01 Jan 2024 00:00:00 UTC" }]);
        }

        Dns.Mx("example.org", "mx.example.org");
        int sent = Mailgun.Requests.Count;
        var enable = await RunProcessAsync(["dnd", "enable", address, "--domain", Domain, "--note", "fixed, ticket 7", "--json"]);

        Assert.That(enable.ExitCode, Is.EqualTo(ExitCodes.Ok), enable.ToString());
        var deletes = Mailgun.Requests.Skip(sent).Where(r => r.Method == "DELETE").ToList();
        Assert.Multiple(async () =>
        {
            Assert.That(deletes.Select(r => r.RawTarget.Split('/')[3]), Is.EquivalentTo(new[] { "bounces", "unsubscribes", "complaints" }), "one DELETE per list");
            Assert.That(deletes.Select(r => (r.Status, r.Authorization)), Has.All.EqualTo((200, BasicAuthorization)), "with the key, each answered 200");
            Assert.That(Mailgun.ListContains(Domain, "bounces", address), Is.False);
            Assert.That(await StateAsync(address), Is.EqualTo(DndState.None), "the entry is cleared");
        });
    }

    [Test]
    public async Task Tenant_connect_as_a_process_stores_the_tenant_and_sets_up_its_webhooks()
    {
        string id = TestTenants.NewId("p"), domain = id + ".example.com", apiKey = "proc-api-key-" + Guid.NewGuid().ToString("N"), signingKey = TestTenants.NewSigningKey();
        Mailgun.AddAccount(apiKey, signingKey, domain);
        string keyFile = Path.Combine(Work, "function.key");
        await File.WriteAllTextAsync(keyFile, "fn-key-proc\n");

        var run = await RunProcessAsync(["tenant", "connect", "--tenant", id, "--domain", domain, "--app-url", "https://app.example.net", "--function-key-file", keyFile, "--json"],
            apiKey: "", stdin: apiKey + "\n");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.ToString());
        await using var services = Core();
        var stored = await services.GetRequiredService<TenantRegistry>().GetAsync(id, CancellationToken.None);
        Assert.Multiple(() =>
        {
            Assert.That(stored?.State, Is.EqualTo(TenantState.Connected));
            Assert.That(stored?.CurrentSigningKey?.Secret, Is.EqualTo(signingKey), "the account's signing key, read through Mailgun's API and stored");
            Assert.That(Mailgun.Webhooks(domain).Values, Has.All.Contains($"https://app.example.net/api/mailgun/{id}/events?code=fn-key-proc"));
            Assert.That(run.Stdout + run.Stderr, Does.Not.Contain(apiKey).And.Not.Contain("fn-key-proc"));
        });
    }

    [Test]
    public async Task Export_as_a_process_reads_Mailgun_with_the_key_and_completes_the_scope()
    {
        Mailgun.SetList(Domain, "bounces", [new JObject { ["address"] = "exp@example.org", ["code"] = "550", ["error"] = "no such user", ["created_at"] = "Mon, 01 Jan 2024 00:00:00 UTC" }]);
        int sent = Mailgun.Requests.Count;
        var run = await RunProcessAsync(["export", "--domain", Domain]);
        var status = await RunAsync("export", "status", "--tenant", Tenant, "--json");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.ToString());
        var item = (JObject)status.Json["items"]!.Single();
        Assert.That(((string?)item["state"], (long?)item["records"]), Is.EqualTo(("completed", 1L)), status.ToString());
        Assert.That(Mailgun.Requests.Skip(sent).Where(r => r.RawTarget.Contains("/bounces", StringComparison.Ordinal)).Select(r => (r.Method, r.Status, r.Authorization)),
            Has.Some.EqualTo(("GET", 200, BasicAuthorization)));
    }

    [Test]
    public async Task Poison_requeue_as_a_process_moves_the_message_back_to_its_queue()
    {
        var (events, poison) = await EmptyEventQueuesAsync();
        string marker = "host-moved-" + Guid.NewGuid().ToString("N");
        await poison.SendMessageAsync("{\"v\":1,\"eventId\":\"" + marker + "\"}");
        var list = await RunAsync("poison", "list", "--queue", "events", "--json");
        string id = (string)list.JsonLines.Single()["id"]!;

        var run = await RunProcessAsync(["poison", "requeue", id]);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.ToString());
        var back = (await events.PeekMessagesAsync(32)).Value.Select(m => m.Body.ToString()).ToList();
        var left = (await poison.PeekMessagesAsync(32)).Value;
        Assert.That(back, Has.One.Contains(marker), "the message is on the events queue again");
        Assert.That(left, Is.Empty, "and no longer in poison");
    }

    [Test]
    public async Task Notifications_replay_as_a_process_empties_the_dead_letters_onto_the_retry_queue()
    {
        DndNotice notice;
        await using (var services = Core())
        {
            var now = DateTimeOffset.UtcNow;
            notice = DndNotice.For(DndChange.PlatformUnsubscribe(now, "link 0123456789abcdef"), Tenant, $"n.{Guid.NewGuid():N}@example.org", "c-1", 1, DndStatus.None,
                new DndStatus(DndState.Permanent, now, null, "platform-unsubscribe"), now);
            await services.GetRequiredService<NotificationDeadLetters>().ParkAsync(
                new NotificationAttempt { Attempt = 40, FirstAttemptAt = now.AddDays(-1), DueAt = now, LastError = "503", Notice = notice }, "503", CancellationToken.None);
        }

        var run = await RunProcessAsync(["notifications", "replay", "--all", "--tenant", Tenant, "--json"]);
        var after = await RunAsync("notifications", "list", "--tenant", Tenant, "--json");

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.ToString());
        Assert.That(after.Stdout.Trim(), Is.Empty, "the dead letter left the table");
        await using var check = Core();
        var queued = await check.GetRequiredService<StorageClients>().Queues.GetQueueClient(StorageNames.NotificationsQueue).PeekMessagesAsync(32);
        Assert.That(queued.Value.Select(m => NotificationAttempt.FromJson(m.Body.ToString()).Notice.Id), Does.Contain(notice.Id), "and is on the retry queue");
    }

    [Test]
    public async Task Setup_webhooks_as_a_process_adds_the_url_to_every_webhook_at_Mailgun()
    {
        const string url = "https://app.example.net/api/mailgun/events?code=proc-key", other = "https://analytics.example.net/hook";
        Mailgun.SetWebhooks(Domain, new Dictionary<string, string[]> { ["clicked"] = [other] });
        var run = await RunProcessAsync(["setup", "webhooks", "--domain", Domain, "--url", url, "--json"]);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.ToString());
        var hooks = Mailgun.Webhooks(Domain);
        Assert.That(MailgunSetup.Subscribed(engagementEvents: false).Select(h => hooks.TryGetValue(h, out var urls) && urls.Contains(url)), Has.All.True, string.Join(", ", hooks.Keys));
        Assert.That(hooks["clicked"], Is.EqualTo(new[] { other }), "another integration's URL is kept, and ours is not added: engagement events are off by default");
        Assert.That(run.Stdout, Does.Not.Contain("proc-key"), "the function key is masked in the output");
    }

    [Test]
    public async Task Migrate_as_a_process_moves_an_old_domain_partition_to_its_tenant()
    {
        // A storage account of its own: migrate reads every partition, which on the shared one is every test's.
        await using var azurite = await Azurite.StartDedicatedAsync(persistent: false);
        string owner = TestTenants.NewId("mp"), domain = owner + ".example.com", address = "old@example.net";
        await using (var services = TestSettings.Services(TestSettings.Configuration(azurite.ConnectionString), (s, c) => s.AddMailgunCore(c), TimeProvider.System))
        {
            await TestTenants.RegisterAsync(services, owner, TestTenants.NewSigningKey(), [domain]);
            // The old layout: the sending domain was the tenant.
            await services.GetRequiredService<DndStore>().ApplyAsync(domain, address,
                DndChange.FromMailgunSuppression("bounces", address, DateTimeOffset.UtcNow.AddDays(-3), "c1", "550", "no such user"), CancellationToken.None);
        }

        var run = await RunProcessAsync(["migrate", "--json"], apiKey: "", storage: azurite.ConnectionString);

        Assert.That(run.ExitCode, Is.EqualTo(ExitCodes.Ok), run.ToString());
        await using var check = TestSettings.Services(TestSettings.Configuration(azurite.ConnectionString), (s, c) => s.AddMailgunCore(c), TimeProvider.System);
        var store = check.GetRequiredService<DndStore>();
        Assert.That((await store.GetStatusAsync(owner, address, CancellationToken.None)).Status.State, Is.EqualTo(DndState.Permanent), "the entry is its tenant's");
        Assert.That(await store.GetAsync(domain, address, CancellationToken.None), Is.Null, "and the old row is gone");
    }
}
