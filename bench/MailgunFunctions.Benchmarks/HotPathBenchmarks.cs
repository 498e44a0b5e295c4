using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using MailgunFunctions.Classification;
using MailgunFunctions.Dnd;
using MailgunFunctions.Events;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Benchmarks;

/// <summary>
/// The CPU work of one events webhook against its floor: one HMAC-SHA256 over the body plus one
/// Utf8JsonReader pass over it, measured in the same run (the Ratio column).
/// </summary>
[MemoryDiagnoser]
public class HotPathBenchmarks
{
    private byte[] _body = [];
    private byte[] _key = [];
    private JObject _eventData = null!;
    private EventWebhookIntake _intake = null!;
    private MailgunFunctions.Tenants.ResolvedTenant _tenant = null!;
    private ServiceProvider _services = null!;
    private MailgunEvent[] _corpus = [];
    private int _nextCorpusEvent;
    private int _nextExplainedEvent;
    private readonly BounceClassifier _classifier = new();
    private MailgunEvent _event = null!;
    private Classification.Classification _classification = null!;
    private DndEntry _existing = null!;
    private readonly DndOptions _dndOptions = new();

    [GlobalSetup]
    public void Setup()
    {
        _body = WebhookSamples.FailedWebhook();
        _key = Encoding.UTF8.GetBytes(TestSettings.SigningKey);
        _services = TestSettings.Services(TestSettings.Configuration(Azurite.Unreachable()), (s, c) => s.AddMailgunCore(c), new FakeTimeProvider(WebhookSamples.Now));
        _intake = _services.GetRequiredService<EventWebhookIntake>();
        _tenant = TestSettings.SingleAccount(_services);
        _eventData = (JObject)JObject.Parse(Encoding.UTF8.GetString(_body))["event-data"]!;
        _event = MailgunEventParser.Parse(_eventData);
        _classification = _classifier.Classify(_event);
        // An address that already soft-bounced once: the decision merges into history, as most storm events do.
        var earlier = SignedWebhook.Failed(_event.Recipient!, WebhookSamples.Now.AddDays(-2), 452, "4.2.2 Mailbox full", severity: "temporary");
        var earlierEvent = MailgunEventParser.Parse(earlier);
        _existing = DndEntry.Empty("mg.example.com", _event.Recipient!).Apply(DndChange.FromEvent(earlierEvent, _classifier.Classify(earlierEvent))!);
        _corpus = BounceCorpus.Load();
        using var check = _intake.Prepare(_tenant, _body);
        if (check.Header is null)
        {
            throw new InvalidOperationException("the sample webhook does not verify");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark(Baseline = true, Description = "floor: HMAC-SHA256 + Utf8JsonReader pass")]
    public int Floor()
    {
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_key, _body, mac);
        var reader = new Utf8JsonReader(_body);
        int tokens = 0;
        while (reader.Read())
        {
            tokens++;
        }

        return tokens + mac[0];
    }

    [Benchmark(Description = "webhook CPU path: verify + validate + envelope")]
    public int WebhookCpuPath()
    {
        using var prepared = _intake.Prepare(_tenant, _body);
        return prepared.EnvelopeJson.Length;
    }

    [Benchmark(Description = "event parse (event-data -> MailgunEvent)")]
    public MailgunEvent EventParse() => MailgunEventParser.Parse(_eventData);

    /// <summary>One corpus event per call, cycling through all of them: the mean is the mean per event over the corpus.</summary>
    [Benchmark(Description = "classifier (per event, over both classifier corpora)")]
    public BounceCategory ClassifyCorpusEvent()
    {
        var e = _corpus[_nextCorpusEvent];
        _nextCorpusEvent = _nextCorpusEvent + 1 == _corpus.Length ? 0 : _nextCorpusEvent + 1;
        return _classifier.Classify(e).Category;
    }

    /// <summary>
    /// The same, with the explanation read: the classifier writes its texts only when they are read, and the pipeline
    /// reads them for every event that changes a DND entry (DndChange.FromEvent), so this is the classifier's cost there.
    /// </summary>
    [Benchmark(Description = "classifier + explanation read (per event, over both classifier corpora)")]
    public int ClassifyAndExplainCorpusEvent()
    {
        var e = _corpus[_nextExplainedEvent];
        _nextExplainedEvent = _nextExplainedEvent + 1 == _corpus.Length ? 0 : _nextExplainedEvent + 1;
        return _classifier.Classify(e).Explanation.Length;
    }

    [Benchmark(Description = "DND decision: DndChange.FromEvent + DndEntry.Apply + DndPolicy.Evaluate")]
    public DndState DndDecision()
    {
        var change = DndChange.FromEvent(_event, _classification)!;
        var merged = _existing.Apply(change);
        return DndPolicy.Evaluate(merged, WebhookSamples.Now, _dndOptions).State;
    }
}
