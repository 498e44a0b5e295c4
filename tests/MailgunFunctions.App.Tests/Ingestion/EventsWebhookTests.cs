using Azure.Data.Tables;
using Azure.Storage.Queues;
using MailgunFunctions.App;
using MailgunFunctions.Dnd;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Processing;
using MailgunFunctions.Queueing;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using MailgunFunctions.Webhooks;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Ingestion;

/// <summary>The events webhook through its function class, against real storage (Azurite).</summary>
public class EventsWebhookTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private string _storage = "";
    private QueueClient _queue = null!;

    [SetUp]
    public async Task SetUp()
    {
        _storage = await Azurite.SharedConnectionStringAsync();
        _queue = new QueueClient(_storage, StorageNames.EventsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await _queue.CreateIfNotExistsAsync();
        await _queue.ClearMessagesAsync();
    }

    private static async Task<(int Status, JObject Body)> Send(AppServices app, Microsoft.AspNetCore.Http.HttpRequest request)
    {
        var result = (ContentResult)await app.Function<EventsWebhook>().RunAsync(request, CancellationToken.None);
        return (result.StatusCode!.Value, JObject.Parse(result.Content!));
    }

    private async Task<List<EventEnvelope>> DrainQueue(AppServices app)
    {
        var envelopes = new List<EventEnvelope>();
        var queue = app.Get<EventQueue>();
        while (true)
        {
            var messages = (await _queue.ReceiveMessagesAsync(32)).Value;
            if (messages.Length == 0)
            {
                return envelopes;
            }

            foreach (var m in messages)
            {
                // The same code the queue trigger uses; the host hands it the base64-decoded text.
                envelopes.Add(await queue.OpenAsync(m.Body.ToString(), CancellationToken.None));
                await _queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            }
        }
    }

    [Test]
    public async Task Signed_event_is_queued_base64_and_decodes_with_the_trigger_code()
    {
        using var app = new AppServices(_storage, Now);
        var data = SignedWebhook.Failed("joan@example.com", Now.AddMinutes(-1));
        string token = SignedWebhook.NewToken();
        string body = SignedWebhook.Body(data, Now.AddMinutes(-1), token);

        var (status, answer) = await Send(app, AppServices.Post(body));

        Assert.That(status, Is.EqualTo(200), answer.ToString());
        Assert.That((string?)answer["outcome"], Is.EqualTo("accepted"));

        // Raw message text is base64, as the Functions queue trigger (messageEncoding base64) expects.
        var raw = new QueueClient(_storage, StorageNames.EventsQueue);
        var peeked = (await raw.PeekMessagesAsync(1)).Value.Single();
        Assert.DoesNotThrow(() => Convert.FromBase64String(peeked.Body.ToString()));

        var envelope = (await DrainQueue(app)).Single();
        Assert.Multiple(() =>
        {
            Assert.That(envelope.EventType, Is.EqualTo("failed"));
            Assert.That(envelope.EventId, Is.EqualTo((string?)data["id"]));
            Assert.That(envelope.Token, Is.EqualTo(token));
            Assert.That(envelope.SigningKeyId, Is.EqualTo("primary"));
            Assert.That(envelope.ReceivedAt, Is.EqualTo(Now));
            Assert.That(envelope.BodySha256, Has.Length.EqualTo(64));
            Assert.That(JToken.DeepEquals(envelope.EventData, data), Is.True);
        });
    }

    [Test]
    public async Task Same_delivery_twice_is_queued_again_and_processed_once()
    {
        using var app = new AppServices(_storage, Now);
        string recipient = $"twice-{Guid.NewGuid():N}@example.com";
        string body = SignedWebhook.Body(SignedWebhook.Failed(recipient, Now), Now);

        var first = await Send(app, AppServices.Post(body));
        var second = await Send(app, AppServices.Post(body));
        var queued = await DrainQueue(app);
        var processor = app.Get<EventProcessor>();
        foreach (var envelope in queued)
        {
            await processor.ProcessAsync(EnvelopeCodec.Serialize(envelope), 1, CancellationToken.None);
        }

        // The URL without a tenant serves the single-account tenant (made from the settings).
        var history = await app.Get<DndStore>().HistoryAsync(app.Get<MailgunFunctions.Tenants.TenantDirectory>().DefaultTenantId, recipient, CancellationToken.None).ToListAsync();
        Assert.Multiple(() =>
        {
            // The events webhook does not mark claims queued (one storage request fewer per event): the retry is queued
            // again, and processing, keyed by the event, makes the second copy a no-op.
            Assert.That((first.Status, (string?)first.Body["outcome"]), Is.EqualTo((200, "accepted")));
            Assert.That((second.Status, (string?)second.Body["outcome"]), Is.EqualTo((200, "accepted")));
            Assert.That(queued.Select(e => e.EventId).Distinct().Count(), Is.EqualTo(1));
            Assert.That(queued, Has.Count.EqualTo(2));
            Assert.That(history, Has.Count.EqualTo(1));
            Assert.That(history[0].NewState, Is.EqualTo(DndState.Permanent));
        });
    }

    [Test]
    public async Task Same_token_with_another_body_is_rejected_as_a_replay_and_logged()
    {
        using var app = new AppServices(_storage, Now);
        string token = SignedWebhook.NewToken();
        string original = SignedWebhook.Body(SignedWebhook.Simple("delivered", "a@example.com", Now), Now, token);
        string forged = SignedWebhook.Body(SignedWebhook.Simple("unsubscribed", "victim@example.com", Now), Now, token);

        Assert.That((await Send(app, AppServices.Post(original))).Status, Is.EqualTo(200));
        var (status, answer) = await Send(app, AppServices.Post(forged));

        Assert.That(status, Is.EqualTo(401));
        Assert.That((string?)answer["outcome"], Is.EqualTo("token_replayed"));
        Assert.That(app.Logs.Entries.Any(e => e.Level == LogLevel.Warning && e.Text.Contains("SECURITY")), Is.True);
        Assert.That((await DrainQueue(app)).Select(e => e.EventType), Is.EqualTo(new[] { "delivered" }));
    }

    [Test]
    public async Task A_replay_after_midnight_meets_the_token_table_of_its_signing_day()
    {
        var lateEvening = new DateTimeOffset(2026, 11, 26, 23, 58, 0, TimeSpan.Zero);
        using var app = new AppServices(_storage, lateEvening);
        string token = SignedWebhook.NewToken();
        string original = SignedWebhook.Body(SignedWebhook.Simple("delivered", "night@example.com", lateEvening), lateEvening, token);
        string forged = SignedWebhook.Body(SignedWebhook.Simple("unsubscribed", "victim@example.com", lateEvening), lateEvening, token);

        var first = await Send(app, AppServices.Post(original));
        app.Time.Advance(TimeSpan.FromMinutes(45));
        var replay = await Send(app, AppServices.Post(forged));

        var signingDay = new TableClient(_storage, ReplayGuard.TableFor(lateEvening));
        Assert.Multiple(async () =>
        {
            Assert.That(first.Status, Is.EqualTo(200));
            Assert.That((replay.Status, (string?)replay.Body["outcome"]), Is.EqualTo((401, "token_replayed")));
            Assert.That(ReplayGuard.TableFor(lateEvening), Is.EqualTo("WebhookTokens20261126"));
            Assert.That((await signingDay.GetEntityIfExistsAsync<TableEntity>(ReplayGuard.KeyOf(token), "")).HasValue, Is.True);
        });
    }

    [Test]
    public async Task The_first_claim_of_a_day_drops_the_token_tables_no_token_can_be_accepted_for_any_more()
    {
        await using var storage = await Azurite.StartDedicatedAsync(persistent: false);
        var tables = new TableServiceClient(storage.ConnectionString);
        // Default window 12 h: at noon on the 26th, tokens signed on the 25th can still arrive; the 24th's cannot.
        string[] existing = ["WebhookTokens20261120", "WebhookTokens20261124", "WebhookTokens20261125", "WebhookTokens", "WebhookTokensArchive"];
        foreach (string name in existing)
        {
            await tables.CreateTableIfNotExistsAsync(name);
        }

        using var app = new AppServices(storage.ConnectionString, Now);
        var answer = await Send(app, AppServices.Post(SignedWebhook.Body(SignedWebhook.Simple("delivered", "a@example.com", Now), Now)));

        var left = new List<string>();
        await foreach (var table in tables.QueryAsync())
        {
            left.Add(table.Name);
        }

        Assert.Multiple(() =>
        {
            Assert.That(answer.Status, Is.EqualTo(200));
            Assert.That(left.Where(n => n.StartsWith("WebhookTokens", StringComparison.Ordinal)), Is.EquivalentTo(new[]
            {
                "WebhookTokens20261125", "WebhookTokens20261126", "WebhookTokens", "WebhookTokensArchive",
            }));
            Assert.That(app.Logs.Entries.Count(e => e.Text.Contains("Dropped the expired webhook token table", StringComparison.Ordinal)), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task Event_too_big_for_a_queue_message_goes_through_a_claim_check()
    {
        using var app = new AppServices(_storage, Now);
        var data = SignedWebhook.Failed("big@example.com", Now);
        data["user-variables"]!["notes"] = new string('x', 120_000);
        string body = SignedWebhook.Body(data, Now);

        Assert.That((await Send(app, AppServices.Post(body))).Status, Is.EqualTo(200));

        var raw = (await _queue.PeekMessagesAsync(1)).Value.Single();
        var reference = EnvelopeCodec.Deserialize(raw.Body.ToString());
        Assert.That(reference.EventData, Is.Null);
        Assert.That(reference.PayloadBlob, Is.Not.Null.And.Not.Empty);

        var envelope = (await DrainQueue(app)).Single();
        Assert.That(JToken.DeepEquals(envelope.EventData, data), Is.True);
    }

    [Test]
    public async Task Storage_down_gives_503_and_the_retry_is_queued_when_it_is_back()
    {
        await using var storage = await Azurite.StartDedicatedAsync(persistent: true);
        using var app = new AppServices(storage.ConnectionString, Now);
        string body = SignedWebhook.Body(SignedWebhook.Failed("down@example.com", Now), Now);

        // Warm up (creates queue and tables), then take storage away.
        Assert.That((await Send(app, AppServices.Post(SignedWebhook.Body(SignedWebhook.Simple("opened", "w@example.com", Now), Now)))).Status, Is.EqualTo(200));
        storage.Stop();

        var (status, answer) = await Send(app, AppServices.Post(body));
        Assert.That(status, Is.EqualTo(503));
        Assert.That((string?)answer["outcome"], Is.EqualTo("storage_unavailable"));

        await storage.RestartAsync();
        // Mailgun retries the same delivery.
        var retried = await Send(app, AppServices.Post(body));
        Assert.That(retried.Status, Is.EqualTo(200), retried.Body + string.Join("\n", app.Logs.Entries.Select(e => e.Text)));

        var queue = new QueueClient(storage.ConnectionString, StorageNames.EventsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var messages = (await queue.ReceiveMessagesAsync(32)).Value;
        var eventTypes = messages.Select(m => EnvelopeCodec.Deserialize(m.Body.ToString()).EventType).OrderBy(t => t).ToArray();
        Assert.That(eventTypes, Is.EqualTo(new[] { "failed", "opened" }));
    }

    [Test]
    public async Task Storage_unreachable_from_the_start_gives_503_not_500()
    {
        using var app = new AppServices(Azurite.Unreachable(), Now);
        var (status, answer) = await Send(app, AppServices.Post(SignedWebhook.Body(SignedWebhook.Failed("x@example.com", Now), Now)));
        Assert.That(status, Is.EqualTo(503));
        Assert.That((string?)answer["outcome"], Is.EqualTo("storage_unavailable"));
    }

    [Test]
    public async Task Logs_never_contain_a_key_or_the_body()
    {
        using var app = new AppServices(_storage, Now);
        var data = SignedWebhook.Failed("secret-recipient@example.com", Now);
        data["user-variables"]!["marker"] = "BODY-MARKER-5d1c";
        await Send(app, AppServices.Post(SignedWebhook.Body(data, Now)));
        await Send(app, AppServices.Post(SignedWebhook.Body(data, Now, key: "wrong-key")));
        await Send(app, AppServices.Post("{not json"));

        string all = string.Join("\n", app.Logs.Entries.Select(e => e.Text));
        Assert.That(app.Logs.Entries, Is.Not.Empty);
        Assert.That(all, Does.Not.Contain(TestSettings.SigningKey));
        Assert.That(all, Does.Not.Contain(TestSettings.NextSigningKey));
        Assert.That(all, Does.Not.Contain(TestSettings.ApiKey));
        Assert.That(all, Does.Not.Contain("BODY-MARKER-5d1c"));
    }
}
