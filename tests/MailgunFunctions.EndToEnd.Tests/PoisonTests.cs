using System.Text;
using Azure.Storage.Queues;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Queueing;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;

namespace MailgunFunctions.EndToEnd.Tests;

/// <summary>
/// A message whose processing keeps failing, through the real worker: the worker's table storage is down (its
/// table endpoint points where nothing listens) while the queues work, so every delivery throws, and after
/// host.json's maxDequeueCount deliveries the message lands, unchanged, in the poison queue.
/// </summary>
public class PoisonTests : WorkerTests
{
    private string _storage = "";

    protected override async Task<RealWorker> StartAsync()
    {
        _storage = await Azurite.SharedConnectionStringAsync();
        // No storage retries inside an attempt: each delivery fails at once, and the host's retries are what is tested.
        return await RealWorker.StartAsync(new Dictionary<string, string?> { ["Storage__MaxRetries"] = "0" }, WithTablesDown(_storage));
    }

    [Test]
    public async Task Message_failing_on_every_delivery_is_moved_to_poison_after_maxDequeueCount_deliveries()
    {
        var now = DateTimeOffset.UtcNow;
        string text = EnvelopeCodec.Serialize(new EventEnvelope
        {
            ReceivedAt = now,
            Token = SignedWebhook.NewToken(),
            SigningKeyId = "primary",
            BodySha256 = new string('a', 64),
            EventType = "failed",
            EventId = "poison-" + Guid.NewGuid().ToString("N"),
            EventData = SignedWebhook.Failed($"p.{Guid.NewGuid():N}@example.net", now),
        });
        // Sent as the webhook sends it: base64, the encoding host.json's messageEncoding names.
        var queue = new QueueClient(_storage, StorageNames.EventsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await queue.CreateIfNotExistsAsync();
        string id = (await queue.SendMessageAsync(text)).Value.MessageId;

        var poison = new QueueClient(_storage, StorageNames.EventsPoisonQueue);
        await poison.CreateIfNotExistsAsync();
        var copies = await Worker.EventuallyAsync(
            async () => (await poison.PeekMessagesAsync(32)).Value.Select(m => Encoding.UTF8.GetString(Convert.FromBase64String(m.Body.ToString()))).Where(t => t == text).ToList(),
            c => c.Count > 0, "the message in mailgun-events-poison");
        var attempts = Worker.Host.Invocations.Where(i => i.FunctionName == "ProcessMailgunEvent" && i.Detail?.StartsWith($"message {id},", StringComparison.Ordinal) == true).ToList();

        Assert.Multiple(async () =>
        {
            Assert.That(copies, Has.Count.EqualTo(1), "one copy, the original text (base64 like every message the trigger reads)");
            Assert.That(attempts.Select(a => a.Detail), Is.EqualTo(Enumerable.Range(1, 5).Select(n => $"message {id}, delivery {n}")), "host.json maxDequeueCount is 5");
            Assert.That(attempts.All(a => !a.Succeeded && a.Error!.Length > 0), Is.True, "every delivery failed with the worker's error");
            Assert.That((await queue.PeekMessagesAsync(32)).Value.Select(m => m.MessageId), Does.Not.Contain(id), "gone from the main queue");
        });
    }

    [Test]
    public async Task Message_that_is_not_base64_goes_to_poison_unchanged_without_reaching_the_worker()
    {
        // Plain text where host.json's messageEncoding says base64: a producer that forgot the encoding.
        string text = "{\"not\":\"base64\", \"id\":\"" + Guid.NewGuid().ToString("N") + "\"}";
        var raw = new QueueClient(_storage, StorageNames.EventsQueue);
        await raw.CreateIfNotExistsAsync();
        string id = (await raw.SendMessageAsync(text)).Value.MessageId;

        var poison = new QueueClient(_storage, StorageNames.EventsPoisonQueue);
        await poison.CreateIfNotExistsAsync();
        await Worker.EventuallyAsync(async () => (await poison.PeekMessagesAsync(32)).Value.Count(m => m.Body.ToString() == text), n => n == 1, "the raw message in mailgun-events-poison");

        Assert.That(Worker.Host.Invocations.Where(i => i.Detail?.Contains(id, StringComparison.Ordinal) == true), Is.Empty, "the worker never got it");
    }

    /// <summary>The same storage with the table endpoint moved to a port where nothing listens.</summary>
    private static string WithTablesDown(string connectionString)
    {
        string deadTables = Azurite.Unreachable().Split(';').Single(p => p.StartsWith("TableEndpoint=", StringComparison.Ordinal));
        return string.Join(';', connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => p.StartsWith("TableEndpoint=", StringComparison.Ordinal) ? deadTables : p)) + ";";
    }
}
