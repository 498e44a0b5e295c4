using Azure.Storage.Queues.Models;
using MailgunFunctions.App;
using MailgunFunctions.Queueing;
using MailgunFunctions.Testing;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace MailgunFunctions.Tests.Telemetry;

/// <summary>
/// The worker's telemetry wiring (WorkerTelemetry.AddWorkerTelemetry, as Program.cs uses it with the Azure Monitor exporter)
/// with an in-memory exporter instead: the product's metrics reach it from a real webhook and processing run against Azurite.
/// </summary>
public class WorkerTelemetryTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Test]
    public async Task The_product_metrics_reach_the_exporter_with_the_tenant_from_a_real_webhook_and_processing_run()
    {
        var exported = new List<MetricSnapshot>();
        using var app = new AppServices(await Azurite.SharedConnectionStringAsync(), Now,
            before: s => s.AddWorkerTelemetry().WithMetrics(m => m.AddInMemoryExporter(exported)));
        var meters = app.Get<MeterProvider>();
        string tenant = TestTenants.NewId("otel");
        string domain = tenant + ".example.com";
        await app.RegisterTenantAsync(tenant, domain);

        var accepted = (ContentResult)await app.Function<EventsWebhook>().RunForTenantAsync(
            AppServices.Post(SignedWebhook.Body(SignedWebhook.Simple("complained", "erin@example.net", Now.AddMinutes(-1), domain: domain), Now.AddMinutes(-1))),
            tenant, CancellationToken.None);
        var processor = app.Function<EventProcessorFunction>();
        string complaint = Envelope(tenant, SignedWebhook.Simple("complained", "erin@example.net", Now.AddMinutes(-1), domain: domain));
        await processor.RunAsync(Message(complaint), default);
        // A redelivery of the same message changes nothing, so it is no second DND change.
        await processor.RunAsync(Message(complaint, dequeueCount: 2), default);
        var invalid = SignedWebhook.Simple("complained", "erin@example.net", Now.AddMinutes(-1), domain: domain);
        invalid.Remove("timestamp");
        await processor.RunAsync(Message(Envelope(tenant, invalid)), default);

        Assert.That(meters.ForceFlush(), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(accepted.StatusCode, Is.EqualTo(200));
            Assert.That(Sum(exported, "mailgun.webhook.events_accepted", tenant, ("event_type", "complained")), Is.EqualTo(1));
            Assert.That(Sum(exported, "mailgun.dnd.changes", tenant, ("category", "Complaint"), ("state", "Locked")), Is.EqualTo(1));
            Assert.That(Sum(exported, "mailgun.events.poisoned", tenant, ("reason", "event_invalid")), Is.EqualTo(1));
        });
    }

    [Test]
    public void Without_a_connection_string_nothing_is_wired_and_with_one_traces_are_sampled_the_Application_Insights_way()
    {
        var without = new ServiceCollection().AddAzureMonitorTelemetry(Configuration(null));
        var with = new ServiceCollection().AddLogging().AddAzureMonitorTelemetry(Configuration(
            "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/"));
        using var provider = with.BuildServiceProvider();
        var tracer = provider.GetRequiredService<OpenTelemetry.Trace.TracerProvider>();
        // The SDK keeps its sampler internal: read by name, so a change of the exporter's default sampler fails here.
        var sampler = tracer.GetType().GetProperty("Sampler", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Public)?.GetValue(tracer);
        Assert.Multiple(() =>
        {
            Assert.That(without, Has.None.Matches<ServiceDescriptor>(d => d.ServiceType == typeof(MeterProvider)));
            Assert.That(sampler?.GetType().Name, Is.EqualTo("ApplicationInsightsSampler"));
            Assert.That(provider.GetService<MeterProvider>(), Is.Not.Null);
        });
    }

    private static Microsoft.Extensions.Configuration.IConfiguration Configuration(string? connectionString) =>
        new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [WorkerTelemetry.ConnectionStringSetting] = connectionString,
            ["Telemetry:SamplingRatio"] = "0.25",
        }).Build();

    [TestCase(null, false)]
    [TestCase("InstrumentationKey=abc", false)]
    [TestCase("Authorization=AAD", true)]
    [TestCase("ClientId=00000000-0000-0000-0000-000000000001;Authorization=AAD", true)]
    public void The_exporter_signs_in_with_the_identity_only_when_the_authentication_string_asks_for_Entra(string? authentication, bool credential) =>
        Assert.That(WorkerTelemetry.CredentialOf(authentication) is not null, Is.EqualTo(credential));

    /// <summary>The last exported value of a counter's points for the tenant and the other tags (cumulative temporality).</summary>
    private static long Sum(List<MetricSnapshot> exported, string name, string tenant, params (string Key, string Value)[] tags)
    {
        var last = exported.LastOrDefault(m => m.Name == name);
        Assert.That(last, Is.Not.Null, $"{name} was exported");
        long sum = 0;
        foreach (var point in last!.MetricPoints)
        {
            var pointTags = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var tag in point.Tags)
            {
                pointTags[tag.Key] = tag.Value;
            }

            if (Equals(pointTags.GetValueOrDefault("tenant"), tenant) && tags.All(t => Equals(pointTags.GetValueOrDefault(t.Key), t.Value)))
            {
                sum += point.GetSumLong();
            }
        }

        return sum;
    }

    private static string Envelope(string tenant, Newtonsoft.Json.Linq.JObject eventData) => EnvelopeCodec.Serialize(new EventEnvelope
    {
        ReceivedAt = Now,
        Token = SignedWebhook.NewToken(),
        EventType = "complained",
        EventId = (string?)eventData["id"] ?? "e1",
        Tenant = tenant,
        EventData = eventData,
    });

    private static QueueMessage Message(string text, long dequeueCount = 1) =>
        QueuesModelFactory.QueueMessage(Guid.NewGuid().ToString("N"), "pop-1", BinaryData.FromString(text), dequeueCount);
}
