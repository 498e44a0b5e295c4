using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Processing;
using MailgunFunctions.Queueing;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Processing;

/// <summary>
/// The app's own Core registration on the shared Azurite, with a fake classifier, a fake clock, captured logs and
/// a tenant unique to the test, so tests never see each other's DND entries. The tenant id has no dot, so tests pass it as
/// the events' sending domain too, and <see cref="Envelope"/> puts such a domain in the envelope as the tenant, as the
/// tenant's webhook URL would.
/// </summary>
internal sealed class ProcessingHarness : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private ProcessingHarness(ServiceProvider services, FakeTimeProvider time, CapturedLogs logs, string tenant)
    {
        Services = services;
        Time = time;
        Logs = logs;
        Tenant = tenant;
    }

    public ServiceProvider Services { get; }
    public FakeTimeProvider Time { get; }
    public CapturedLogs Logs { get; }
    public string Tenant { get; }

    public DndStore Store => Services.GetRequiredService<DndStore>();
    public EventProcessor Processor => Services.GetRequiredService<EventProcessor>();
    public StorageClients Clients => Services.GetRequiredService<StorageClients>();

    public static async Task<ProcessingHarness> CreateAsync(IDictionary<string, string?>? overrides = null, string? connectionString = null)
    {
        connectionString ??= await Azurite.SharedConnectionStringAsync();
        var time = new FakeTimeProvider(Start);
        var logs = new CapturedLogs();
        var configuration = TestSettings.Configuration(connectionString, overrides);
        var services = TestSettings.Services(configuration, (s, c) =>
        {
            s.AddMailgunCore(c);
            s.AddSingleton<IEventClassifier, FakeEventClassifier>();
        }, time, logs);
        return new ProcessingHarness(services, time, logs, NewTenant());
    }

    public static string NewTenant() => $"t{Guid.NewGuid():N}"[..13];

    /// <summary>
    /// A queue message as the webhook would send it: an event whose sending domain is a test tenant's id (no dot) was
    /// received on that tenant's URL; any other came in on the single-account URL, with no tenant in the envelope.
    /// </summary>
    public static string Envelope(JObject eventData) => EnvelopeCodec.Serialize(new EventEnvelope
    {
        Tenant = MailgunFunctions.Events.MailgunEventParser.SendingDomainOf(eventData) is { } domain && !domain.Contains('.', StringComparison.Ordinal) ? domain : null,
        ReceivedAt = Start,
        Token = SignedWebhook.NewToken(),
        SigningKeyId = "primary",
        BodySha256 = new string('0', 64),
        EventType = (string?)eventData["event"] ?? "",
        EventId = (string?)eventData["id"] ?? "",
        EventData = eventData,
    });

    public async Task<List<DndHistoryRecord>> HistoryAsync(string address, string? tenant = null)
    {
        var records = new List<DndHistoryRecord>();
        await foreach (var r in Store.HistoryAsync(tenant ?? Tenant, address, CancellationToken.None))
        {
            records.Add(r);
        }

        return records;
    }

    /// <summary>
    /// A store of its own on the shared Azurite (so with no learned rates or cached markers: it reads first), whose table
    /// client runs <paramref name="policy"/> on every request and never retries, so each request the policy sees is one.
    /// </summary>
    public async Task<DndStore> StoreWithAsync(HttpPipelinePolicy policy, HttpPipelinePosition position, DndOptions? options = null)
    {
        var clientOptions = new TableClientOptions();
        clientOptions.Retry.MaxRetries = 0;
        clientOptions.AddPolicy(policy, position);
        return new DndStore(new TableServiceClient(await Azurite.SharedConnectionStringAsync(), clientOptions), Time,
            Options.Create(options ?? new DndOptions()), NullLogger<DndStore>.Instance);
    }

    public async ValueTask DisposeAsync() => await Services.DisposeAsync();
}
