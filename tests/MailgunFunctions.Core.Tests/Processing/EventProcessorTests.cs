using System.Text;
using Azure.Storage.Queues;
using MailgunFunctions.Dnd;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Processing;
using MailgunFunctions.Queueing;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Processing;

/// <summary>The queue function's job on a real Azurite: poison at once, idempotency, activity, sender issues, end to end.</summary>
public class EventProcessorTests
{
    private const string Recipient = "alice@example.net";
    private ProcessingHarness _harness = null!;
    private QueueClient _poison = null!;
    private QueueClient _events = null!;

    [SetUp]
    public async Task SetUp()
    {
        _harness = await ProcessingHarness.CreateAsync();
        string connection = await Azurite.SharedConnectionStringAsync();
        var base64 = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        _poison = new QueueClient(connection, StorageNames.EventsPoisonQueue, base64);
        _events = new QueueClient(connection, StorageNames.EventsQueue, base64);
        // Fixed queue names shared by every test: start empty.
        foreach (var q in new[] { _poison, _events })
        {
            await q.CreateIfNotExistsAsync();
            await q.ClearMessagesAsync();
        }
    }

    [TearDown]
    public async Task TearDown() => await _harness.DisposeAsync();

    private DateTimeOffset Now => _harness.Time.GetUtcNow();

    private async Task<PoisonRecord> SinglePoisonAsync()
    {
        var messages = (await _poison.ReceiveMessagesAsync(maxMessages: 32)).Value;
        Assert.That(messages, Has.Length.EqualTo(1));
        return JsonConvert.DeserializeObject<PoisonRecord>(messages[0].MessageText)!;
    }

    [TestCase("this is not json", TestName = "ProcessAsync_poisons_text_at_once")]
    [TestCase("{\"v\":1,\"receivedAt\":\"2026-03-01T12:00:00Z\"}", TestName = "ProcessAsync_poisons_an_envelope_without_event_at_once")]
    [TestCase("{\"v\":9,\"eventData\":{}}", TestName = "ProcessAsync_poisons_an_unknown_envelope_version_at_once")]
    public async Task ProcessAsync_poisons_what_is_not_an_envelope(string text)
    {
        var result = await _harness.Processor.ProcessAsync(text, 1, default);
        var poison = await SinglePoisonAsync();
        Assert.Multiple(() =>
        {
            Assert.That(result.Outcome, Is.EqualTo(EventOutcome.Poisoned));
            Assert.That(poison.Reason, Is.EqualTo("envelope_invalid"));
            Assert.That(poison.Detail, Is.Not.Empty);
            Assert.That(poison.Message, Is.EqualTo(text));
            Assert.That(poison.DequeueCount, Is.EqualTo(1));
            Assert.That(_harness.Logs.Entries.Count(l => l.Level == Microsoft.Extensions.Logging.LogLevel.Error && l.Text.Contains("envelope_invalid", StringComparison.Ordinal)), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task ProcessAsync_poison_message_is_base64_like_the_host_writes()
    {
        await _harness.Processor.ProcessAsync("garbage", 2, default);
        // Read raw (no decoding): the text on the queue must be base64 of the JSON record.
        var raw = new QueueClient(await Azurite.SharedConnectionStringAsync(), StorageNames.EventsPoisonQueue);
        var message = (await raw.ReceiveMessagesAsync(1)).Value.Single();
        var record = JObject.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(message.MessageText)));
        Assert.Multiple(() =>
        {
            Assert.That((string?)record["reason"], Is.EqualTo("envelope_invalid"));
            Assert.That((string?)record["message"], Is.EqualTo("garbage"));
            Assert.That((long?)record["dequeueCount"], Is.EqualTo(2));
        });
    }

    [Test]
    public async Task ProcessAsync_poisons_an_oversized_original_through_a_blob()
    {
        string text = new('"', EventPoisonQueue.MaxInlineBytes);
        await _harness.Processor.ProcessAsync(text, 1, default);
        var poison = await SinglePoisonAsync();
        var blob = _harness.Clients.Blobs.GetBlobContainerClient(StorageNames.EventPayloadsContainer).GetBlobClient(poison.MessageBlob);
        Assert.Multiple(async () =>
        {
            Assert.That(poison.Message, Is.Null);
            Assert.That((await blob.DownloadContentAsync()).Value.Content.ToString(), Is.EqualTo(text));
        });
    }

    [Test]
    public async Task ProcessAsync_poisons_an_event_without_timestamp()
    {
        var data = SignedWebhook.Failed(Recipient, Now, domain: _harness.Tenant);
        data.Remove("timestamp");
        var result = await _harness.Processor.ProcessAsync(ProcessingHarness.Envelope(data), 1, default);
        var poison = await SinglePoisonAsync();
        Assert.That((result.PoisonReason, poison.Reason, poison.Detail), Is.EqualTo(("event_invalid", "event_invalid", "timestamp_missing")));
    }

    [Test]
    public async Task ProcessAsync_applies_an_event_without_id_once_however_often_it_comes()
    {
        var data = SignedWebhook.Failed(Recipient, Now, domain: _harness.Tenant);
        data.Remove("id");
        await _harness.Processor.ProcessAsync(ProcessingHarness.Envelope(data), 1, default);
        await _harness.Processor.ProcessAsync(ProcessingHarness.Envelope(data), 2, default);
        Assert.That(await _harness.HistoryAsync(Recipient), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task ProcessAsync_poisons_a_complaint_without_recipient()
    {
        var data = SignedWebhook.Simple("complained", Recipient, Now, domain: _harness.Tenant);
        data.Remove("recipient");
        await _harness.Processor.ProcessAsync(ProcessingHarness.Envelope(data), 1, default);
        Assert.That((await SinglePoisonAsync()).Reason, Is.EqualTo("recipient_missing"));
    }

    [TestCase("opened")]
    [TestCase("clicked")]
    [TestCase("delivered")]
    [TestCase("accepted")]
    public async Task ProcessAsync_skips_an_event_without_effect_that_lacks_a_recipient_and_poisons_nothing(string type)
    {
        var data = SignedWebhook.Simple(type, Recipient, Now, domain: _harness.Tenant);
        data.Remove("recipient");
        data.Remove("envelope");
        var result = await _harness.Processor.ProcessAsync(ProcessingHarness.Envelope(data), 1, default);
        var poisoned = (await _poison.PeekMessagesAsync(32)).Value;
        Assert.Multiple(() =>
        {
            Assert.That(result.Outcome, Is.EqualTo(EventOutcome.Skipped));
            Assert.That(poisoned, Is.Empty);
        });
    }

    [Test]
    public async Task ProcessAsync_applies_an_event_to_the_tenant_of_its_envelope_whatever_domain_it_names()
    {
        // A tenant's URL and key received it: the DND is that tenant's even for a domain it has not registered (with a warning).
        string tenant = ProcessingHarness.NewTenant();
        await TestTenants.RegisterAsync(_harness.Services, tenant, TestTenants.NewSigningKey(), [tenant + ".example.com"]);
        var data = SignedWebhook.Simple("complained", Recipient, Now, domain: "unregistered.example.org");
        var message = EnvelopeCodec.Serialize(EnvelopeCodec.Deserialize(ProcessingHarness.Envelope(data)) is var e ? Retenant(e, tenant) : null!);

        var result = await _harness.Processor.ProcessAsync(message, 1, default);

        var status = await _harness.Store.GetStatusAsync(tenant, Recipient, default);
        Assert.Multiple(() =>
        {
            Assert.That((result.Outcome, result.Tenant), Is.EqualTo((EventOutcome.Processed, tenant)));
            Assert.That(status.Status.State, Is.EqualTo(DndState.Locked));
            Assert.That(_harness.Logs.Entries.Count(l => l.Level == Microsoft.Extensions.Logging.LogLevel.Warning && l.Text.Contains("unregistered.example.org", StringComparison.Ordinal)
                && l.Text.Contains("has not registered", StringComparison.Ordinal)), Is.EqualTo(1));
        });
    }

    private static EventEnvelope Retenant(EventEnvelope envelope, string tenant)
    {
        envelope.Tenant = tenant;
        return envelope;
    }

    [Test]
    public async Task ProcessAsync_gives_an_envelope_queued_before_tenants_to_the_tenant_of_its_domain()
    {
        string tenant = ProcessingHarness.NewTenant(), domain = tenant + ".example.org";
        await TestTenants.RegisterAsync(_harness.Services, tenant, TestTenants.NewSigningKey(), [domain]);
        var data = SignedWebhook.Simple("complained", Recipient, Now, domain: domain);

        var result = await _harness.Processor.ProcessAsync(ProcessingHarness.Envelope(data), 1, default);

        Assert.That(result.Tenant, Is.EqualTo(tenant));
        Assert.That((await _harness.Store.GetStatusAsync(tenant, Recipient, default)).Status.State, Is.EqualTo(DndState.Locked));
    }

    [Test]
    public async Task ProcessAsync_poisons_an_old_envelope_of_no_known_tenant_only_without_a_single_account()
    {
        // Registry only: no single-account tenant to fall back to.
        await using var harness = await ProcessingHarness.CreateAsync(new Dictionary<string, string?>
        {
            ["Mailgun:SigningKeys:primary"] = null,
            ["Mailgun:SigningKeys:next"] = null,
            ["Mailgun:ApiKey"] = null,
        });
        var complaint = SignedWebhook.Simple("complained", Recipient, Now, domain: "nobody.example.org");
        var open = SignedWebhook.Simple("opened", Recipient, Now, domain: "nobody.example.org");

        var poisoned = await harness.Processor.ProcessAsync(ProcessingHarness.Envelope(complaint), 1, default);
        var skipped = await harness.Processor.ProcessAsync(ProcessingHarness.Envelope(open), 1, default);

        var poison = await SinglePoisonAsync();
        Assert.Multiple(() =>
        {
            Assert.That(poisoned.Outcome, Is.EqualTo(EventOutcome.Poisoned));
            Assert.That(poison.Reason, Is.EqualTo("tenant_unknown"));
            Assert.That(poison.Detail, Does.Contain("nobody.example.org"));
            Assert.That(skipped.Outcome, Is.EqualTo(EventOutcome.Skipped), "an open has nothing to lose");
        });
    }

    [Test]
    public async Task ProcessAsync_gives_an_old_envelope_of_an_unknown_domain_to_the_single_account_tenant()
    {
        var data = SignedWebhook.Simple("complained", Recipient, Now);
        data.Remove("envelope");
        var result = await _harness.Processor.ProcessAsync(ProcessingHarness.Envelope(data), 1, default);
        string single = _harness.Services.GetRequiredService<MailgunFunctions.Tenants.TenantDirectory>().DefaultTenantId;
        Assert.That((result.Outcome, result.Tenant), Is.EqualTo((EventOutcome.Processed, single)));
    }

    [Test]
    public async Task ProcessAsync_same_envelope_twice_gives_one_history_record_and_the_same_entry()
    {
        string message = ProcessingHarness.Envelope(SignedWebhook.Failed(Recipient, Now.AddMinutes(-3), domain: _harness.Tenant));
        var first = await _harness.Processor.ProcessAsync(message, 1, default);
        var second = await _harness.Processor.ProcessAsync(message, 2, default);
        var history = await _harness.HistoryAsync(Recipient);
        Assert.Multiple(() =>
        {
            Assert.That(first.Dnd!.Outcome, Is.EqualTo(DndApplyOutcome.Applied));
            Assert.That(second.Dnd!.Outcome, Is.EqualTo(DndApplyOutcome.Unchanged));
            Assert.That(second.Dnd.Entry, Is.EqualTo(first.Dnd.Entry));
            Assert.That(history, Has.Count.EqualTo(1));
            Assert.That(history[0].NewState, Is.EqualTo(DndState.Permanent));
        });
    }

    [Test]
    public async Task ProcessAsync_records_opens_as_activity_without_history_and_skips_accepted()
    {
        var opened = await _harness.Processor.ProcessAsync(ProcessingHarness.Envelope(SignedWebhook.Simple("opened", Recipient, Now, domain: _harness.Tenant)), 1, default);
        var accepted = await _harness.Processor.ProcessAsync(ProcessingHarness.Envelope(SignedWebhook.Simple("accepted", "bob@example.net", Now, domain: _harness.Tenant)), 1, default);
        var entry = await _harness.Store.GetAsync(_harness.Tenant, Recipient, default);
        Assert.Multiple(async () =>
        {
            Assert.That(opened.Outcome, Is.EqualTo(EventOutcome.Processed));
            Assert.That(entry!.LastOpenedAt, Is.EqualTo(Now));
            Assert.That(entry.Context!.ContactId, Is.EqualTo("c-123"));
            Assert.That(await _harness.HistoryAsync(Recipient), Is.Empty);
            Assert.That(accepted.Outcome, Is.EqualTo(EventOutcome.Skipped));
            Assert.That(await _harness.Store.GetAsync(_harness.Tenant, "bob@example.net", default), Is.Null);
        });
    }

    [Test]
    public async Task ProcessAsync_counts_a_sender_side_failure_and_leaves_the_contact_out_of_dnd()
    {
        var data = SignedWebhook.Failed(Recipient, Now, message: "5.7.26 DMARC policy violation", domain: _harness.Tenant);
        var result = await _harness.Processor.ProcessAsync(ProcessingHarness.Envelope(data), 1, default);
        var status = await _harness.Store.GetStatusAsync(_harness.Tenant, Recipient, default);
        Assert.Multiple(async () =>
        {
            Assert.That(result.SenderIssue!.Total, Is.EqualTo(1));
            Assert.That(status.Status.State, Is.EqualTo(DndState.None));
            Assert.That(status.Entry!.LastEvent!.Label, Is.EqualTo("failed"));
            Assert.That(await _harness.HistoryAsync(Recipient), Is.Empty);
        });
    }

    [Test]
    public async Task ProcessAsync_throws_when_storage_is_down_so_the_host_retries()
    {
        await using var down = await ProcessingHarness.CreateAsync(connectionString: Azurite.Unreachable());
        string message = ProcessingHarness.Envelope(SignedWebhook.Failed(Recipient, Now, domain: down.Tenant));
        Assert.That(async () => await down.Processor.ProcessAsync(message, 1, default), Throws.InstanceOf<Azure.RequestFailedException>());
    }

    [Test]
    public async Task ProcessAsync_lets_an_unexpected_failure_through_for_the_host_to_retry_and_poisons_nothing()
    {
        var classifier = new Moq.Mock<MailgunFunctions.Classification.IEventClassifier>();
        classifier.Setup(c => c.Classify(Moq.It.IsAny<MailgunFunctions.Events.MailgunEvent>())).Throws(new InvalidOperationException("classifier bug"));
        var s = _harness.Services;
        var processor = new EventProcessor(s.GetRequiredService<EventQueue>(), classifier.Object, _harness.Store, s.GetRequiredService<SenderIssueCounter>(),
            s.GetRequiredService<EventPoisonQueue>(), s.GetRequiredService<SentMessageLog>(), s.GetRequiredService<MailgunAllowlists>(), s.GetRequiredService<MailgunFunctions.Tenants.TenantDirectory>(), Microsoft.Extensions.Options.Options.Create(new DndOptions()), _harness.Time,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<EventProcessor>.Instance, s.GetRequiredService<MailgunFunctions.Telemetry.MailgunMetrics>(), s.GetRequiredService<MailgunFunctions.Rates.TenantDailyRates>());
        string message = ProcessingHarness.Envelope(SignedWebhook.Failed(Recipient, Now, domain: _harness.Tenant));

        Assert.That(async () => await processor.ProcessAsync(message, 1, default), Throws.InvalidOperationException);
        Assert.That((await _poison.PeekMessagesAsync(32)).Value, Is.Empty);
    }

    [Test]
    public async Task Webhook_to_queue_to_processor_end_to_end_sets_dnd_and_history()
    {
        var intake = _harness.Services.GetRequiredService<EventWebhookIntake>();
        var data = SignedWebhook.Failed("Carol@Example.net", Now.AddMinutes(-1), domain: _harness.Tenant);
        string body = SignedWebhook.Body(data, Now);
        await TestTenants.RegisterAsync(_harness.Services, _harness.Tenant, TestSettings.SigningKey, [_harness.Tenant + ".example.com"]);
        var intakeResult = await intake.AcceptAsync(_harness.Tenant, new MemoryStream(Encoding.UTF8.GetBytes(body)), body.Length, "application/json", default);
        Assert.That(intakeResult.StatusCode, Is.EqualTo(200));

        // As the Functions host does: receive from the real queue, base64-decoded.
        var message = (await _events.ReceiveMessagesAsync(maxMessages: 32)).Value.Single();
        var result = await _harness.Processor.ProcessAsync(message.MessageText, message.DequeueCount, default);

        var status = await _harness.Store.GetStatusAsync(_harness.Tenant, "carol@example.net", default);
        var history = await _harness.HistoryAsync("carol@example.net");
        Assert.Multiple(() =>
        {
            Assert.That(result.Outcome, Is.EqualTo(EventOutcome.Processed));
            Assert.That(status.Status.State, Is.EqualTo(DndState.Permanent));
            Assert.That(status.Entry!.Address, Is.EqualTo("carol@example.net"));
            Assert.That(status.Entry.Context!.ContactId, Is.EqualTo("c-123"));
            Assert.That(status.Entry.Context.Tags, Is.EqualTo(new[] { "newsletter" }));
            Assert.That(history, Has.Count.EqualTo(1));
            Assert.That(history[0].EventId, Is.EqualTo((string?)data["id"]));
            Assert.That(history[0].Rule, Is.EqualTo("fake-hard"));
        });
    }

    [Test]
    public async Task Webhook_with_a_claim_checked_event_is_processed_from_the_blob()
    {
        var intake = _harness.Services.GetRequiredService<EventWebhookIntake>();
        var data = SignedWebhook.Simple("complained", "dave@example.net", Now.AddMinutes(-1), domain: _harness.Tenant);
        data["user-variables"]!["notes"] = new string('n', EventQueue.MaxInlineEnvelopeBytes);
        string body = SignedWebhook.Body(data, Now);
        await TestTenants.RegisterAsync(_harness.Services, _harness.Tenant, TestSettings.SigningKey, [_harness.Tenant + ".example.com"]);
        await intake.AcceptAsync(_harness.Tenant, new MemoryStream(Encoding.UTF8.GetBytes(body)), body.Length, "application/json", default);

        var message = (await _events.ReceiveMessagesAsync(maxMessages: 32)).Value.Single();
        Assert.That(EnvelopeCodec.Deserialize(message.MessageText).PayloadBlob, Is.Not.Null, "the event must have gone through the claim check");
        await _harness.Processor.ProcessAsync(message.MessageText, message.DequeueCount, default);
        Assert.That((await _harness.Store.GetStatusAsync(_harness.Tenant, "dave@example.net", default)).Status.State, Is.EqualTo(DndState.Locked));
    }
}
