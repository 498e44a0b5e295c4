using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using MailgunFunctions.App;
using MailgunFunctions.Dnd;
using MailgunFunctions.Settings;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using MailgunFunctions.Testing;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Tenants;

/// <summary>
/// Tenants at the HTTP level, through the function classes and the app's container on Azurite: each tenant's URL verifies
/// with that tenant's keys only, so one tenant's key can never change another's DND; parent-signature counts only where
/// a tenant trusts it, and only for its own events; a key rotation reaches the webhook within the cache lifetime.
/// </summary>
public class TenantWebhookTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
    private string _storage = "";
    private QueueClient _events = null!;
    private QueueClient _inbound = null!;

    [SetUp]
    public async Task SetUp()
    {
        _storage = await Azurite.SharedConnectionStringAsync();
        var encoding = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        _events = new QueueClient(_storage, StorageNames.EventsQueue, encoding);
        _inbound = new QueueClient(_storage, StorageNames.InboundQueue, encoding);
        foreach (var queue in new[] { _events, _inbound })
        {
            await queue.CreateIfNotExistsAsync();
            await queue.ClearMessagesAsync();
        }
    }

    private sealed record Location(string Id, string Domain, string Key);

    private static async Task<Location> ConnectAsync(AppServices app, string? parentAccount = null, string? mailgunAccountId = null)
    {
        string id = TestTenants.NewId(), domain = id + ".example.com", key = TestTenants.NewSigningKey();
        await TestTenants.RegisterAsync(app.Provider, id, key, [domain], parentAccount: parentAccount, mailgunAccountId: mailgunAccountId);
        return new Location(id, domain, key);
    }

    private static async Task<(int Status, string Outcome)> PostEventAsync(AppServices app, string tenant, string body)
    {
        var result = (ContentResult)await app.Function<EventsWebhook>().RunForTenantAsync(AppServices.Post(body), tenant, CancellationToken.None);
        return (result.StatusCode!.Value, (string)JObject.Parse(result.Content!)["outcome"]!);
    }

    private async Task ProcessEventsAsync(AppServices app)
    {
        foreach (var m in (await _events.ReceiveMessagesAsync(32)).Value)
        {
            await app.Function<EventProcessorFunction>().RunAsync(QueuesModelFactory.QueueMessage(m.MessageId, m.PopReceipt, m.Body, 1), CancellationToken.None);
            await _events.DeleteMessageAsync(m.MessageId, m.PopReceipt);
        }
    }

    private static async Task<DndState> StateAsync(AppServices app, string tenant, string address) =>
        (await app.Get<DndStore>().GetStatusAsync(tenant, address, CancellationToken.None)).Status.State;

    private static JObject Complaint(string address, string domain) => SignedWebhook.Simple("complained", address, Now.AddMinutes(-1), domain: domain);

    [Test]
    public async Task An_event_signed_with_the_tenants_key_on_its_url_lands_under_that_tenant_only()
    {
        using var app = new AppServices(_storage, Now);
        var a = await ConnectAsync(app);
        var b = await ConnectAsync(app);

        var answer = await PostEventAsync(app, a.Id, SignedWebhook.Body(Complaint("ann@example.net", a.Domain), Now.AddMinutes(-1), key: a.Key));
        await ProcessEventsAsync(app);

        Assert.Multiple(async () =>
        {
            Assert.That(answer, Is.EqualTo((200, "accepted")));
            Assert.That(await StateAsync(app, a.Id, "ann@example.net"), Is.EqualTo(DndState.Locked));
            Assert.That(await StateAsync(app, b.Id, "ann@example.net"), Is.EqualTo(DndState.None));
            Assert.That(await StateAsync(app, app.Get<TenantDirectory>().DefaultTenantId, "ann@example.net"), Is.EqualTo(DndState.None));
        });
    }

    [Test]
    public async Task A_key_of_tenant_A_on_tenant_B_url_is_refused_and_changes_nothing_anywhere()
    {
        using var app = new AppServices(_storage, Now);
        var a = await ConnectAsync(app);
        var b = await ConnectAsync(app);

        // A's key, an event naming B's domain, posted to B's URL (events) and to B's reply route (inbound).
        var events = await PostEventAsync(app, b.Id, SignedWebhook.Body(Complaint("bob@example.net", b.Domain), Now.AddMinutes(-1), key: a.Key));
        var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.ParsedReply(recipient: "reply@" + b.Domain, strippedText: "Please unsubscribe me."), Now, key: a.Key));
        var inbound = (ContentResult)await app.Function<InboundWebhook>().RunForTenantAsync(AppServices.Post(post.Body, post.ContentType), b.Id, CancellationToken.None);
        // The single-account key (settings) is not B's either.
        var single = await PostEventAsync(app, b.Id, SignedWebhook.Body(Complaint("bob@example.net", b.Domain), Now.AddMinutes(-1)));
        await ProcessEventsAsync(app);

        Assert.Multiple(async () =>
        {
            Assert.That(events, Is.EqualTo((401, "signature_invalid")));
            Assert.That(inbound.StatusCode, Is.EqualTo(401));
            Assert.That(single, Is.EqualTo((401, "signature_invalid")));
            Assert.That((await _events.PeekMessagesAsync(1)).Value, Is.Empty);
            Assert.That((await _inbound.PeekMessagesAsync(1)).Value, Is.Empty);
            Assert.That(await StateAsync(app, b.Id, "bob@example.net"), Is.EqualTo(DndState.None));
            Assert.That(await StateAsync(app, a.Id, "bob@example.net"), Is.EqualTo(DndState.None));
        });
    }

    [TestCase("nobody-registered-this", TestName = "An_unregistered_tenant_gets_404_which_Mailgun_retries")]
    [TestCase("not/a/tenant", TestName = "An_invalid_tenant_id_gets_404")]
    public async Task Unknown_tenants_get_404(string tenant)
    {
        using var app = new AppServices(_storage, Now);
        var answer = await PostEventAsync(app, tenant, SignedWebhook.Body(Complaint("x@example.net", "mg.example.com"), Now.AddMinutes(-1)));
        Assert.That(answer, Is.EqualTo((404, "tenant_unknown")));
    }

    [Test]
    public async Task The_url_without_a_tenant_serves_the_single_account_tenant_and_404s_where_there_is_none()
    {
        using var single = new AppServices(_storage, Now);
        var ok = (ContentResult)await single.Function<EventsWebhook>().RunAsync(AppServices.Post(SignedWebhook.Body(Complaint("sam@example.net", "mg.example.com"), Now.AddMinutes(-1))), CancellationToken.None);

        using var registryOnly = new AppServices(_storage, Now, new Dictionary<string, string?> { ["Mailgun:SigningKeys:primary"] = null, ["Mailgun:SigningKeys:next"] = null, ["Mailgun:ApiKey"] = null });
        var none = (ContentResult)await registryOnly.Function<EventsWebhook>().RunAsync(AppServices.Post(SignedWebhook.Body(Complaint("sam@example.net", "mg.example.com"), Now.AddMinutes(-1))), CancellationToken.None);

        Assert.That((ok.StatusCode, none.StatusCode), Is.EqualTo(((int?)200, (int?)404)));
    }

    private static string ParentSigned(JObject eventData, string childKey, string? parentKey)
    {
        var body = JObject.Parse(SignedWebhook.Body(eventData, Now.AddMinutes(-1), key: childKey));
        if (parentKey is not null)
        {
            var signature = (JObject)body["signature"]!;
            signature["parent-signature"] = MailgunFunctions.Signatures.SignatureVerifier.Sign(parentKey, (string)signature["timestamp"]!, (string)signature["token"]!);
        }

        return body.ToString(Newtonsoft.Json.Formatting.None);
    }

    private static JObject WithDomainAndAccount(JObject data, string domain, string? account)
    {
        data["domain"] = new JObject { ["name"] = domain };
        if (account is not null)
        {
            data["account"] = new JObject { ["id"] = account };
        }

        return data;
    }

    [Test]
    public async Task Parent_signature_verifies_a_subaccount_tenant_only_where_configured_and_only_for_its_own_events()
    {
        using var app = new AppServices(_storage, Now);
        string parentId = TestTenants.NewId("parent"), parentKey = TestTenants.NewSigningKey();
        await app.Get<TenantRegistry>().SaveParentAsync(
            new ParentAccount(parentId, MailgunFunctions.MailgunApi.MailgunRegion.Us, null, [new TenantSigningKey("primary", parentKey, Now)], Now), "test", CancellationToken.None);
        var trusting = await ConnectAsync(app, parentAccount: parentId, mailgunAccountId: "sub-account-1");
        var other = await ConnectAsync(app, parentAccount: parentId);
        var notTrusting = await ConnectAsync(app);
        string unknownKey = TestTenants.NewSigningKey();

        // The subaccount's own key is not known here: only the parent's signature can verify.
        var ownDomain = await PostEventAsync(app, trusting.Id, ParentSigned(WithDomainAndAccount(Complaint("p1@example.net", trusting.Domain), trusting.Domain, null), unknownKey, parentKey));
        var ownAccount = await PostEventAsync(app, trusting.Id, ParentSigned(WithDomainAndAccount(Complaint("p2@example.net", "unlisted.example.org"), "unlisted.example.org", "sub-account-1"), unknownKey, parentKey));
        var othersEvent = await PostEventAsync(app, trusting.Id, ParentSigned(WithDomainAndAccount(Complaint("p3@example.net", other.Domain), other.Domain, "sub-account-2"), unknownKey, parentKey));
        var noDomain = await PostEventAsync(app, trusting.Id, ParentSigned(Complaint("p4@example.net", trusting.Domain), unknownKey, parentKey));
        var notConfigured = await PostEventAsync(app, notTrusting.Id, ParentSigned(WithDomainAndAccount(Complaint("p5@example.net", notTrusting.Domain), notTrusting.Domain, null), unknownKey, parentKey));
        var wrongParentKey = await PostEventAsync(app, trusting.Id, ParentSigned(WithDomainAndAccount(Complaint("p6@example.net", trusting.Domain), trusting.Domain, null), unknownKey, unknownKey));
        await ProcessEventsAsync(app);

        Assert.Multiple(async () =>
        {
            Assert.That(ownDomain, Is.EqualTo((200, "accepted")), "domain.name is the tenant's");
            Assert.That(ownAccount, Is.EqualTo((200, "accepted")), "account.id is the tenant's subaccount");
            Assert.That(othersEvent, Is.EqualTo((401, "parent_signature_not_for_tenant")), "the parent key signs every subaccount's events");
            Assert.That(noDomain, Is.EqualTo((401, "parent_signature_not_for_tenant")), "an event naming neither cannot be tied to the tenant");
            Assert.That(notConfigured, Is.EqualTo((401, "signature_invalid")), "a tenant that does not trust the parent ignores parent-signature");
            Assert.That(wrongParentKey, Is.EqualTo((401, "signature_invalid")));
            Assert.That(await StateAsync(app, trusting.Id, "p1@example.net"), Is.EqualTo(DndState.Locked));
            Assert.That(await StateAsync(app, trusting.Id, "p2@example.net"), Is.EqualTo(DndState.Locked));
            Assert.That(await StateAsync(app, other.Id, "p3@example.net"), Is.EqualTo(DndState.None));
            Assert.That(await StateAsync(app, trusting.Id, "p3@example.net"), Is.EqualTo(DndState.None));
        });
    }

    [Test]
    public async Task A_rotated_signing_key_reaches_the_webhook_within_the_cache_lifetime()
    {
        using var app = new AppServices(_storage, Now);
        var tenant = await ConnectAsync(app);
        string newKey = TestTenants.NewSigningKey();
        // Warm the cache with the old key, as a busy instance would have.
        Assert.That(await PostEventAsync(app, tenant.Id, SignedWebhook.Body(Complaint("r1@example.net", tenant.Domain), Now.AddMinutes(-1), key: tenant.Key)), Is.EqualTo((200, "accepted")));

        // Another instance (the CLI) replaces the key in the registry; this instance is not told.
        using (var cli = new AppServices(_storage, Now))
        {
            var registry = cli.Get<TenantRegistry>();
            var stored = (await registry.GetAsync(tenant.Id, CancellationToken.None))!;
            await registry.SaveAsync(stored with { SigningKeys = [new TenantSigningKey("rotated", newKey, Now)] }, "test", "rotate-signing-key", CancellationToken.None);
        }

        var lifetime = app.Get<Microsoft.Extensions.Options.IOptions<TenantsOptions>>().Value.CacheLifetime;
        var newBefore = await PostEventAsync(app, tenant.Id, SignedWebhook.Body(Complaint("r2@example.net", tenant.Domain), Now.AddMinutes(-1), key: newKey));
        app.Time.Advance(lifetime + TimeSpan.FromSeconds(1));
        var newAfter = await PostEventAsync(app, tenant.Id, SignedWebhook.Body(Complaint("r3@example.net", tenant.Domain), Now.AddMinutes(-1), key: newKey));
        var oldAfter = await PostEventAsync(app, tenant.Id, SignedWebhook.Body(Complaint("r4@example.net", tenant.Domain), Now.AddMinutes(-1), key: tenant.Key));

        Assert.Multiple(() =>
        {
            Assert.That(newBefore.Status, Is.EqualTo(401), "within the lifetime the instance still holds the old keys");
            Assert.That(newAfter, Is.EqualTo((200, "accepted")), "after it, the new key verifies");
            Assert.That(oldAfter, Is.EqualTo((401, "signature_invalid")), "and the removed key no longer does");
        });
    }

    [Test]
    public async Task A_key_retired_by_a_rotation_verifies_mailguns_retries_until_the_signature_window_ends()
    {
        using var app = new AppServices(_storage, Now);
        var tenant = await ConnectAsync(app);
        string newKey = TestTenants.NewSigningKey();
        // What tenant rotate-signing-key stores: the new key current, the old one retired now.
        var registry = app.Get<TenantRegistry>();
        var stored = (await registry.GetAsync(tenant.Id, CancellationToken.None))!;
        await registry.SaveAsync(stored with
        {
            SigningKeys = [stored.SigningKeys[0] with { RetiredAt = Now }, new TenantSigningKey("rotated", newKey, Now)],
        }, "test", "rotate-signing-key", CancellationToken.None);
        app.Get<TenantDirectory>().Forget(tenant.Id);

        // A retry of a delivery signed before the rotation, and a new event signed with the new key.
        var retry = await PostEventAsync(app, tenant.Id, SignedWebhook.Body(Complaint("k1@example.net", tenant.Domain), Now.AddMinutes(-30), key: tenant.Key));
        var fresh = await PostEventAsync(app, tenant.Id, SignedWebhook.Body(Complaint("k2@example.net", tenant.Domain), Now.AddMinutes(-1), key: newKey));

        var window = app.Get<Microsoft.Extensions.Options.IOptions<WebhookOptions>>().Value.MaxSignatureAge;
        var lifetime = app.Get<Microsoft.Extensions.Options.IOptions<TenantsOptions>>().Value.CacheLifetime;
        app.Time.Advance(window + lifetime + TimeSpan.FromSeconds(1));
        var later = app.Time.GetUtcNow();
        var oldLater = await PostEventAsync(app, tenant.Id, SignedWebhook.Body(Complaint("k3@example.net", tenant.Domain), later.AddMinutes(-1), key: tenant.Key));
        var newLater = await PostEventAsync(app, tenant.Id, SignedWebhook.Body(Complaint("k4@example.net", tenant.Domain), later.AddMinutes(-1), key: newKey));

        Assert.Multiple(() =>
        {
            Assert.That(retry, Is.EqualTo((200, "accepted")), "the retired key still verifies Mailgun's retries");
            Assert.That(fresh, Is.EqualTo((200, "accepted")));
            Assert.That(oldLater, Is.EqualTo((401, "signature_invalid")), "once no signature it made can be fresh, the retired key no longer verifies");
            Assert.That(newLater, Is.EqualTo((200, "accepted")));
        });
    }
}
