using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
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
    private ServiceProvider _services = null!;

    [GlobalSetup]
    public void Setup()
    {
        _body = WebhookSamples.FailedWebhook();
        _key = Encoding.UTF8.GetBytes(TestSettings.SigningKey);
        _services = TestSettings.Services(TestSettings.Configuration(Azurite.Unreachable()), (s, c) => s.AddMailgunCore(c), new FakeTimeProvider(WebhookSamples.Now));
        _intake = _services.GetRequiredService<EventWebhookIntake>();
        _eventData = (JObject)JObject.Parse(Encoding.UTF8.GetString(_body))["event-data"]!;
        using var check = _intake.Prepare(_body);
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
        using var prepared = _intake.Prepare(_body);
        return prepared.EnvelopeJson.Length;
    }

    [Benchmark(Description = "event parse (event-data -> MailgunEvent)")]
    public MailgunEvent EventParse() => MailgunEventParser.Parse(_eventData);
}
