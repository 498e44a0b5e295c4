using System.Net;
using MailgunFunctions.ChangeFeed;
using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.Export;
using MailgunFunctions.Tests.MailgunApi;
using Microsoft.Extensions.DependencyInjection;

namespace MailgunFunctions.Tests.ChangeFeed;

/// <summary>
/// Our own unsubscribes reach Mailgun: a change recorded from the platform's link (or a reply) is dispatched from its
/// outbox onto the real <c>mailgun-unsubscribes</c> queue (Azurite), and the queue function's logic
/// (<see cref="MailgunUnsubscribeSync"/>) puts the address on the unsubscribe list of every domain of the tenant at the
/// Mailgun fake; the link's undo removes only what we added; Mailgun failing never touches the DND.
/// </summary>
[NonParallelizable]
public class MailgunUnsubscribeSyncTests : ExportTestBed
{
    private ServiceProvider _services = null!;
    private string _tenant = null!;
    private string _a = null!;
    private string _b = null!;

    [SetUp]
    public async Task SetUp()
    {
        _tenant = TestTenants.NewId("mu");
        (_a, _b) = ($"a.{_tenant}.example.com", $"b.{_tenant}.example.com");
        var settings = ApiTestServices.Settings(Us, Eu);
        settings["Tenants:KeyEncryptionKeys:k1"] = TestSettings.KeyEncryptionKey;
        _services = ApiTestServices.Build(Storage, settings);
        await TestTenants.RegisterAsync(_services, _tenant, TestTenants.NewSigningKey(), [_a, _b]);
        HostLists(Us, _a);
        HostLists(Us, _b);
    }

    [TearDown]
    public async Task TearDown() => await _services.DisposeAsync();

    private DndStore Store => _services.GetRequiredService<DndStore>();

    private Azure.Storage.Queues.QueueClient Queue => _services.GetRequiredService<StorageClients>().Queues.GetQueueClient(StorageNames.MailgunUnsubscribesQueue);

    /// <summary>
    /// This tenant's messages on the real queue, received (hidden for a minute). Other tests share the queue (every
    /// link or reply unsubscribe of the suite lands there): their messages are read past and reappear later.
    /// </summary>
    private async Task<List<Azure.Storage.Queues.Models.QueueMessage>> MineAsync()
    {
        var mine = new List<Azure.Storage.Queues.Models.QueueMessage>();
        while ((await Queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1))).Value is { Length: > 0 } batch)
        {
            mine.AddRange(batch.Where(m => MailgunUnsubscribeMessage.FromJson(m.MessageText)?.Tenant == _tenant));
        }

        return mine;
    }

    /// <summary>Runs this tenant's queued messages through the queue function's logic, then deletes them, as the host does.</summary>
    private async Task<int> ProcessQueuedAsync()
    {
        var sync = _services.GetRequiredService<MailgunUnsubscribeSync>();
        var mine = await MineAsync();
        foreach (var message in mine)
        {
            await sync.ProcessAsync(message.MessageText, default);
            await Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        }

        return mine.Count;
    }

    [Test]
    public async Task A_link_unsubscribe_is_added_on_every_domain_and_its_undo_removes_it_again()
    {
        string address = $"lou.{Guid.NewGuid():N}@example.org";
        await Store.ApplyAsync(_tenant, address, DndChange.PlatformUnsubscribe(DateTimeOffset.UtcNow, "link-1"), default);

        int added = await ProcessQueuedAsync();
        bool onA = Us.ListContains(_a, "unsubscribes", address), onB = Us.ListContains(_b, "unsubscribes", address);
        int again = await ProcessQueuedAsync();
        await Store.ApplyAsync(_tenant, address, DndChange.PlatformResubscribe(DateTimeOffset.UtcNow, "link-1"), default);
        int removed = await ProcessQueuedAsync();

        Assert.Multiple(() =>
        {
            Assert.That(added, Is.EqualTo(1), "one message per change");
            Assert.That((onA, onB), Is.EqualTo((true, true)), "on Mailgun's unsubscribe list of every domain of the tenant");
            Assert.That(again, Is.Zero);
            Assert.That(removed, Is.EqualTo(1));
            Assert.That(Us.ListContains(_a, "unsubscribes", address) || Us.ListContains(_b, "unsubscribes", address), Is.False, "the undo removes what we added");
            Assert.That(Us.Requests.Count(r => r.Method == "POST" && r.RawTarget.EndsWith("/unsubscribes", StringComparison.Ordinal)), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task An_undo_keeps_what_was_on_Mailguns_list_before_we_added_it_and_a_redelivery_changes_nothing()
    {
        string address = $"kim.{Guid.NewGuid():N}@example.org";
        // On domain a's list already (Mailgun's own), not on b's.
        Us.SetList(_a, "unsubscribes", [ApiTestServices.Unsubscribe(address, "*")]);
        await Store.ApplyAsync(_tenant, address, DndChange.PlatformUnsubscribe(DateTimeOffset.UtcNow, "link-2"), default);
        var message = new MailgunUnsubscribeMessage(_tenant, address, Remove: false, 1);

        await ProcessQueuedAsync();
        int posts = Us.Requests.Count(r => r.Method == "POST");
        await _services.GetRequiredService<MailgunUnsubscribeSync>().ProcessAsync(message.ToJson(), default);
        int postsAfterRedelivery = Us.Requests.Count(r => r.Method == "POST");
        await Store.ApplyAsync(_tenant, address, DndChange.PlatformResubscribe(DateTimeOffset.UtcNow, "link-2"), default);
        await ProcessQueuedAsync();

        Assert.Multiple(() =>
        {
            Assert.That(posts, Is.EqualTo(1), "only domain b needed adding");
            Assert.That(postsAfterRedelivery, Is.EqualTo(posts), "a redelivered message changes nothing");
            Assert.That(Us.ListContains(_a, "unsubscribes", address), Is.True, "it was there before us: kept");
            Assert.That(Us.ListContains(_b, "unsubscribes", address), Is.False, "ours: removed");
        });
    }

    [Test]
    public async Task A_reply_unsubscribe_reaches_Mailgun_too_and_operators_blocks_do_not()
    {
        string replied = $"rey.{Guid.NewGuid():N}@example.org", blocked = $"bo.{Guid.NewGuid():N}@example.org";
        await Store.ApplyAsync(_tenant, replied, DndChange.FromReply(DateTimeOffset.UtcNow, "reply-1", MailgunFunctions.Classification.BounceCategory.Unsubscribe, "reply-unsubscribe", "asked to stop"), default);
        await Store.ApplyAsync(_tenant, blocked, DndChange.ManualBlock(DateTimeOffset.UtcNow, "cli:ann", "asked by phone"), default);

        int processed = await ProcessQueuedAsync();

        Assert.Multiple(() =>
        {
            Assert.That(processed, Is.EqualTo(1));
            Assert.That(Us.ListContains(_a, "unsubscribes", replied), Is.True);
            Assert.That(Us.ListContains(_a, "unsubscribes", blocked), Is.False, "an operator's block is ours to keep, not Mailgun's");
        });
    }

    [Test]
    public async Task Mailgun_failing_leaves_the_DND_set_and_the_retried_message_succeeds_later()
    {
        string address = $"fay.{Guid.NewGuid():N}@example.org";
        Us.Fail(_a, "unsubscribes", 0, HttpStatusCode.ServiceUnavailable, times: 100);
        await Store.ApplyAsync(_tenant, address, DndChange.PlatformUnsubscribe(DateTimeOffset.UtcNow, "link-3"), default);
        var sync = _services.GetRequiredService<MailgunUnsubscribeSync>();
        var message = (await MineAsync()).Single();

        var failure = Assert.ThrowsAsync<MailgunFunctions.MailgunApi.MailgunApiException>(() => sync.ProcessAsync(message.MessageText, default));
        var (_, status) = await Store.GetStatusAsync(_tenant, address, default);
        Us.ClearFaults();
        // The host shows the message again: the same text, processed again.
        await sync.ProcessAsync(message.MessageText, default);
        await Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);

        Assert.Multiple(() =>
        {
            Assert.That(failure, Is.Not.Null, "thrown so the queue retries (and poisons after maxDequeueCount)");
            Assert.That(status.State, Is.EqualTo(DndState.Permanent), "the DND never waits for Mailgun");
            Assert.That(Us.ListContains(_a, "unsubscribes", address) && Us.ListContains(_b, "unsubscribes", address), Is.True);
        });
    }

    [Test]
    public async Task A_new_unsubscribe_after_an_operators_re_enable_cleared_Mailguns_lists_is_added_again()
    {
        string address = $"ray.{Guid.NewGuid():N}@example.org";
        await Store.ApplyAsync(_tenant, address, DndChange.PlatformUnsubscribe(DateTimeOffset.UtcNow.AddMinutes(-2), "link-4"), default);
        await ProcessQueuedAsync();
        // dnd enable --override-unsubscribe: Mailgun's lists cleared, then the DND.
        Us.SetList(_a, "unsubscribes", []);
        Us.SetList(_b, "unsubscribes", []);
        await Store.ReenableAsync(_tenant, address, "cli:ann", "unsubscribe override: asked by phone", adminOverride: false, default);
        await Store.ApplyAsync(_tenant, address, DndChange.PlatformUnsubscribe(DateTimeOffset.UtcNow, "link-5"), default);

        await ProcessQueuedAsync();

        Assert.That(Us.ListContains(_a, "unsubscribes", address) && Us.ListContains(_b, "unsubscribes", address), Is.True, "looked up again, not taken from our earlier row");
    }
}
