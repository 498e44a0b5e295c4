using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using MailgunFunctions.App;
using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Queueing;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests;

/// <summary>The queue function as the host runs it: built from the app's registration, bound to a QueueMessage, and its metadata.</summary>
public class EventProcessorFunctionTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static async Task<ServiceProvider> ServicesAsync() =>
        TestSettings.Services(TestSettings.Configuration(await Azurite.SharedConnectionStringAsync()), (s, c) =>
        {
            s.AddMailgunFunctions(c);
            s.AddSingleton<IEventClassifier, FakeEventClassifier>();
        }, new FakeTimeProvider(Now));

    private static QueueMessage Message(string text, long dequeueCount) =>
        QueuesModelFactory.QueueMessage("id-1", "pop-1", BinaryData.FromString(text), dequeueCount);

    [Test]
    public async Task RunAsync_applies_the_event_to_the_dnd_entry()
    {
        await using var services = await ServicesAsync();
        var function = ActivatorUtilities.CreateInstance<EventProcessorFunction>(services);
        string tenant = TestTenants.NewId("t");
        string envelope = EnvelopeCodec.Serialize(new EventEnvelope
        {
            ReceivedAt = Now,
            Token = SignedWebhook.NewToken(),
            EventType = "complained",
            EventId = "e1",
            Tenant = tenant,
            EventData = SignedWebhook.Simple("complained", "erin@example.net", Now.AddMinutes(-1), domain: tenant + ".example.com"),
        });

        await function.RunAsync(Message(envelope, 1), default);

        var status = await services.GetRequiredService<DndStore>().GetStatusAsync(tenant, "erin@example.net", default);
        Assert.That(status.Status.State, Is.EqualTo(DndState.Locked));
    }

    [Test]
    public async Task RunAsync_moves_an_unreadable_message_to_poison_and_completes()
    {
        await using var services = await ServicesAsync();
        var poison = new QueueClient(await Azurite.SharedConnectionStringAsync(), StorageNames.EventsPoisonQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await poison.CreateIfNotExistsAsync();
        await poison.ClearMessagesAsync();
        var function = ActivatorUtilities.CreateInstance<EventProcessorFunction>(services);

        await function.RunAsync(Message("<xml/>", 1), default);

        var received = (await poison.ReceiveMessagesAsync(32)).Value;
        Assert.That(received, Has.Length.EqualTo(1));
        Assert.That((string?)JObject.Parse(received[0].MessageText)["reason"], Is.EqualTo("envelope_invalid"));
    }

    [Test]
    public void Metadata_binds_the_queue_trigger_to_the_events_queue()
    {
        var metadata = JArray.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "functions.metadata")));
        var function = metadata.Single(f => (string?)f["name"] == "ProcessMailgunEvent");
        var binding = (JObject)function["bindings"]![0]!;
        Assert.Multiple(() =>
        {
            Assert.That((string?)function["entryPoint"], Is.EqualTo("MailgunFunctions.App.EventProcessorFunction.RunAsync"));
            Assert.That((string?)binding["type"], Is.EqualTo("queueTrigger"));
            Assert.That((string?)binding["queueName"], Is.EqualTo(StorageNames.EventsQueue));
            Assert.That((string?)binding["connection"], Is.EqualTo(StorageNames.ConnectionSetting));
        });
    }

    [Test]
    public void HostJson_queue_settings_match_what_processing_relies_on()
    {
        var queues = JObject.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "host.json")))["extensions"]!["queues"]!;
        Assert.Multiple(() =>
        {
            // Producers (EventQueue, EventPoisonQueue) send base64.
            Assert.That((string?)queues["messageEncoding"], Is.EqualTo("base64"));
            Assert.That((int?)queues["maxDequeueCount"], Is.EqualTo(5));
            Assert.That((int?)queues["batchSize"], Is.InRange(1, 32));
            Assert.That(TimeSpan.Parse((string)queues["visibilityTimeout"]!), Is.GreaterThan(TimeSpan.Zero));
        });
    }
}
