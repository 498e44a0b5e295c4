using System.Net;
using System.Net.Http.Headers;
using MailgunFunctions.Dnd;
using MailgunFunctions.Inbound;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.EndToEnd.Tests;

/// <summary>
/// Two storage shards, each its own Azurite, through the real worker: a tenant's webhooks write only to its shard, the
/// shard's own queue trigger processes them with that shard's tables, and the API reads the tenant's shard.
/// </summary>
public class ShardTests : WorkerTests
{
    private Azurite _shard1 = null!;

    protected override async Task<RealWorker> StartAsync()
    {
        _shard1 = await Azurite.StartDedicatedAsync(persistent: false);
        return await RealWorker.StartAsync(new Dictionary<string, string?>
        {
            ["Storage__Shards"] = "2",
            ["StorageShard1"] = _shard1.ConnectionString,
        });
    }

    [OneTimeTearDown]
    public async Task StopShard()
    {
        if (_shard1 is not null)
        {
            await _shard1.DisposeAsync();
        }
    }

    private IServiceProvider Shard(int k) => Worker.Get<TenantShards>().Services(k);

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");

    private static async Task<(string Id, string Domain)> TenantAsync(IServiceProvider services, int shard)
    {
        string id = TestTenants.NewId("sh" + shard);
        await TestTenants.RegisterAsync(services, id, TestSettings.SigningKey, [id + ".example.com"], shard: shard);
        return (id, id + ".example.com");
    }

    private Task<HttpResponseMessage> PostFailedAsync(string tenant, string domain, string recipient)
    {
        var now = DateTimeOffset.UtcNow;
        return Worker.Http.PostAsync(Worker.WithKey($"api/mailgun/{tenant}/events"), Json(SignedWebhook.Body(SignedWebhook.Failed(recipient, now, domain: domain), now)));
    }

    private static async Task<DndEntry?> EntryAsync(IServiceProvider shard, string tenant, string address) =>
        (await shard.GetRequiredService<DndStore>().GetStatusAsync(tenant, address, CancellationToken.None)).Entry;

    [Test]
    public async Task Each_tenants_events_are_queued_processed_and_stored_in_its_own_shard_only()
    {
        var (home, homeDomain) = await TenantAsync(Worker.Services, 0);
        var (other, otherDomain) = await TenantAsync(Worker.Services, 1);
        string homeRecipient = $"h.{Guid.NewGuid():N}@example.net", otherRecipient = $"o.{Guid.NewGuid():N}@example.net";

        var homeAnswer = await PostFailedAsync(home, homeDomain, homeRecipient);
        var otherAnswer = await PostFailedAsync(other, otherDomain, otherRecipient);

        Assert.That(homeAnswer.StatusCode, Is.EqualTo(HttpStatusCode.OK), await homeAnswer.Content.ReadAsStringAsync());
        Assert.That(otherAnswer.StatusCode, Is.EqualTo(HttpStatusCode.OK), await otherAnswer.Content.ReadAsStringAsync());
        var homeStatus = await Worker.EventuallyAsync(() => Shard(0).GetRequiredService<DndStore>().GetStatusAsync(home, homeRecipient, CancellationToken.None),
            s => s.Status.State == DndState.Permanent, "the home tenant's DND entry in shard 0");
        var otherStatus = await Worker.EventuallyAsync(() => Shard(1).GetRequiredService<DndStore>().GetStatusAsync(other, otherRecipient, CancellationToken.None),
            s => s.Status.State == DndState.Permanent, "the shard-1 tenant's DND entry in shard 1");
        var processedOnShard1 = await Worker.Host.WaitForInvocationAsync(i => i.FunctionName == "ProcessMailgunEventShard1" && i.Succeeded, TimeSpan.FromSeconds(5));

        // The same table names in both accounts: each tenant's rows are in its own account only, and so are its event's
        // webhook token and queue message (the shard-1 account has a token table, the home account's queue saw one event).
        var shard1Tables = new Azure.Data.Tables.TableServiceClient(_shard1.ConnectionString).QueryAsync(t => t.Name.CompareTo(StorageNames.WebhookTokensTable) >= 0);
        var tokenTables = new List<string>();
        await foreach (var table in shard1Tables)
        {
            tokenTables.Add(table.Name);
        }

        Assert.Multiple(async () =>
        {
            Assert.That(homeStatus.Status.State, Is.EqualTo(DndState.Permanent));
            Assert.That(otherStatus.Status.State, Is.EqualTo(DndState.Permanent));
            Assert.That(await EntryAsync(Shard(1), home, homeRecipient), Is.Null, "the home tenant's entry is not in shard 1");
            Assert.That(await EntryAsync(Shard(0), other, otherRecipient), Is.Null, "the shard-1 tenant's entry is not in the home account");
            Assert.That(processedOnShard1.Reason, Does.Contain(StorageNames.EventsQueue));
            Assert.That(tokenTables, Has.Some.StartsWith(StorageNames.WebhookTokensTable), "the webhook's token claim went to the tenant's shard");
            Assert.That(Worker.Host.Invocations.Where(i => i.FunctionName.StartsWith("ProcessMailgunEventShard", StringComparison.Ordinal)).Select(i => i.FunctionName).Distinct(),
                Is.EqualTo(new[] { "ProcessMailgunEventShard1" }), "the disabled shards' triggers never ran");
            // The same rule the host's function list prints "(disabled: not started)" from.
            Assert.That(Worker.Host.Functions.Where(Worker.Host.IsDisabled).Select(f => f.Name),
                Has.Member("ProcessMailgunEventShard2").And.No.Member("ProcessMailgunEventShard1").And.No.Member("ProcessMailgunEvent"));
        });
    }

    [Test]
    public async Task The_platform_API_and_the_inbound_route_reach_the_tenants_shard()
    {
        var (other, otherDomain) = await TenantAsync(Worker.Services, 1);
        string recipient = $"api.{Guid.NewGuid():N}@example.net";
        Assert.That((await PostFailedAsync(other, otherDomain, recipient)).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        await Worker.EventuallyAsync(() => EntryAsync(Shard(1), other, recipient), e => e is not null, "the entry in shard 1");

        var api = await Worker.Http.GetAsync(Worker.WithKey($"api/dnd/{other}/{Uri.EscapeDataString(recipient)}"));
        var fields = InboundPost.Signed(InboundPost.ParsedReply(recipient: "reply@" + otherDomain), DateTimeOffset.UtcNow);
        var (body, contentType) = InboundPost.UrlEncoded(fields);
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        var inbound = await Worker.Http.PostAsync(Worker.WithKey($"api/mailgun/{other}/inbound"), content);
        var replies = await Worker.EventuallyAsync(
            async () => await Shard(1).GetRequiredService<ReplyStore>().ListAsync(other, CancellationToken.None).ToListAsync(), r => r.Count > 0, "the reply in shard 1");

        string answer = await api.Content.ReadAsStringAsync();
        Assert.Multiple(async () =>
        {
            Assert.That(api.StatusCode, Is.EqualTo(HttpStatusCode.OK), answer);
            Assert.That((string?)JObject.Parse(answer)["state"], Is.EqualTo("permanent"), answer);
            Assert.That(inbound.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(replies, Has.Count.EqualTo(1));
            Assert.That(await Shard(0).GetRequiredService<ReplyStore>().ListAsync(other, CancellationToken.None).ToListAsync(), Is.Empty, "nothing of the tenant in the home account");
        });
    }

    /// <summary>
    /// A tenant moved to another shard can still have messages on its old shard's queue (queued before the move): the old
    /// shard's processor forwards them to the tenant's shard instead of writing into the old shard's tables.
    /// </summary>
    [Test]
    public async Task A_message_left_on_another_shards_queue_is_forwarded_to_the_tenants_shard_and_processed_there()
    {
        var (other, otherDomain) = await TenantAsync(Worker.Services, 1);
        string recipient = $"fw.{Guid.NewGuid():N}@example.net";
        var now = DateTimeOffset.UtcNow;
        var envelope = new MailgunFunctions.Queueing.EventEnvelope
        {
            Tenant = other,
            ReceivedAt = now,
            Token = SignedWebhook.NewToken(),
            SigningKeyId = "primary",
            BodySha256 = new string('b', 64),
            EventType = "failed",
            EventId = "fw-" + Guid.NewGuid().ToString("N"),
            EventData = SignedWebhook.Failed(recipient, now, domain: otherDomain),
        };

        await Shard(0).GetRequiredService<MailgunFunctions.Queueing.EventQueue>().SendAsync(envelope, CancellationToken.None);

        var status = await Worker.EventuallyAsync(() => Shard(1).GetRequiredService<DndStore>().GetStatusAsync(other, recipient, CancellationToken.None),
            s => s.Status.State == DndState.Permanent, "the forwarded event's DND entry in shard 1");
        Assert.Multiple(async () =>
        {
            Assert.That(status.Status.State, Is.EqualTo(DndState.Permanent));
            Assert.That(await EntryAsync(Shard(0), other, recipient), Is.Null, "nothing written in the shard the message was found on");
            Assert.That(Worker.Host.Invocations.Any(i => i.FunctionName == "ProcessMailgunEvent" && i.Succeeded), Is.True, "shard 0's trigger took it first");
        });
    }

    [Test]
    public async Task A_reply_left_on_another_shards_queue_is_forwarded_with_its_payload_and_stored_in_the_tenants_shard()
    {
        var (other, otherDomain) = await TenantAsync(Worker.Services, 1);
        var now = DateTimeOffset.UtcNow;
        var (body, contentType) = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.ParsedReply(recipient: "reply@" + otherDomain), now));
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body));
        var envelope = new InboundEnvelope
        {
            ReceivedAt = now,
            SignedAt = now,
            Token = SignedWebhook.NewToken(),
            SigningKeyId = "primary",
            BodySha256 = sha,
            ContentType = contentType,
            PayloadBlob = InboundQueue.PayloadBlobName(now, sha),
            Recipient = "reply@" + otherDomain,
            Tenant = other,
        };

        await Shard(0).GetRequiredService<InboundQueue>().StoreAndSendAsync(envelope, new MemoryStream(body), CancellationToken.None);

        var replies = await Worker.EventuallyAsync(
            async () => await Shard(1).GetRequiredService<ReplyStore>().ListAsync(other, CancellationToken.None).ToListAsync(), r => r.Count > 0, "the forwarded reply in shard 1");
        Assert.Multiple(async () =>
        {
            Assert.That(replies, Has.Count.EqualTo(1));
            Assert.That(await Shard(0).GetRequiredService<ReplyStore>().ListAsync(other, CancellationToken.None).ToListAsync(), Is.Empty, "nothing stored where it was found");
        });
    }

    [Test]
    public async Task A_tenant_recorded_on_a_shard_the_deployment_does_not_have_gets_503_and_nothing_is_written()
    {
        var (lost, domain) = await TenantAsync(Worker.Services, 5);
        string recipient = $"l.{Guid.NewGuid():N}@example.net";

        var answer = await PostFailedAsync(lost, domain, recipient);

        Assert.Multiple(async () =>
        {
            Assert.That(answer.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), "Mailgun retries once the shard is configured");
            Assert.That(await EntryAsync(Shard(0), lost, recipient), Is.Null);
            Assert.That(await EntryAsync(Shard(1), lost, recipient), Is.Null);
        });
    }
}
