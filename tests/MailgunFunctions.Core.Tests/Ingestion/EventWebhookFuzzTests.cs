using System.Text;
using MailgunFunctions.Events;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Queueing;
using MailgunFunctions.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Ingestion;

/// <summary>
/// Mutation fuzzing of the events webhook's CPU path (everything but storage): 100,000 inputs derived from
/// real signed bodies. Every input must end in an envelope or a documented rejection: never an exception.
/// Seeded, so a failure is reproducible; the seed and case number are in the failure message.
/// </summary>
public class EventWebhookFuzzTests
{
    private const int Cases = 100_000;
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private static readonly HashSet<(int, string)> DocumentedRejections =
    [
        (400, "malformed_json"), (401, "signature_missing"), (401, "signature_malformed"), (401, "signature_invalid"),
        (401, "timestamp_stale"), (401, "timestamp_in_future"), (406, "event_invalid"),
    ];

    private ServiceProvider _services = null!;
    private EventWebhookIntake _intake = null!;
    private MailgunFunctions.Tenants.ResolvedTenant _tenant = null!;

    [SetUp]
    public void SetUp()
    {
        _services = TestSettings.Services(TestSettings.Configuration(Azurite.Unreachable()), (s, c) => s.AddMailgunCore(c), new FakeTimeProvider(Now));
        _intake = _services.GetRequiredService<EventWebhookIntake>();
        _tenant = TestSettings.SingleAccount(_services);
    }

    [TearDown]
    public void TearDown() => _services.Dispose();

    [Test]
    public void Mutated_bodies_never_throw_and_every_rejection_is_documented()
    {
        const int seed = 20261126;
        var random = new Random(seed);
        var seeds = SeedBodies();
        int accepted = 0, rejected = 0;
        var reasons = new Dictionary<string, int>();
        for (int i = 0; i < Cases; i++)
        {
            byte[] input = Mutate(random, seeds[random.Next(seeds.Length)]);
            PreparedEvent result;
            try
            {
                result = _intake.Prepare(_tenant, input);
                if (result.Header is not null)
                {
                    // What the webhook accepts, the queue function must be able to open: same required-field rule.
                    var envelope = EnvelopeCodec.Deserialize(Encoding.UTF8.GetString(result.EnvelopeJson.Span));
                    var parsed = MailgunEventParser.Parse(envelope.EventData!);
                    // An event without an id is queued with "-" and gets a derived id when parsed.
                    Assert.That((parsed.EventType, result.Header.EventId == "-" ? parsed.Id.StartsWith("sha256-", StringComparison.Ordinal) : parsed.Id == result.Header.EventId),
                        Is.EqualTo((result.Header.EventType, true)), $"seed {seed}, case {i}");
                }
            }
            catch (Exception ex)
            {
                Assert.Fail($"seed {seed}, case {i}: {ex.GetType().Name}: {ex.Message}\ninput: {Convert.ToBase64String(input)}");
                return;
            }

            if (result.Header is not null)
            {
                accepted++;
                result.Dispose();
                continue;
            }

            rejected++;
            var r = result.Rejection!;
            Assert.That(DocumentedRejections, Does.Contain((r.StatusCode, r.Reason)), $"seed {seed}, case {i}");
            Assert.That(r.Detail, Is.Not.Null.And.Not.Empty, $"seed {seed}, case {i}: a rejection must say why");
            reasons[r.Reason] = reasons.GetValueOrDefault(r.Reason) + 1;
        }

        TestContext.Out.WriteLine($"{Cases} cases: {accepted} accepted, {rejected} rejected: " + string.Join(", ", reasons.Select(kv => $"{kv.Key} {kv.Value}")));
        // The mutators must reach every stage, or the fuzzing proves little.
        Assert.That(accepted, Is.GreaterThan(Cases / 20));
        Assert.That(reasons.Keys, Is.SupersetOf(new[] { "malformed_json", "signature_missing", "signature_invalid", "event_invalid" }));
    }

    /// <summary>
    /// Structure-aware: generated bodies (<see cref="HostileInput.EventsWebhookBody"/>) that are mostly validly signed, so the
    /// event-data is read, with every field now and then of the wrong type, an unpaired surrogate escape, a number past its
    /// limits, huge, nested past the depth limit, or repeated.
    /// </summary>
    [Test]
    public void Generated_bodies_with_hostile_fields_never_throw_and_every_rejection_is_documented()
    {
        const int seed = 1515;
        int accepted = 0;
        var reasons = new Dictionary<string, int>();
        for (int batch = 0; batch < GeneratedCases / 500; batch++)
        {
            var bodies = HostileInput.Sample(HostileInput.EventsWebhookBody(Now, TestSettings.SigningKey), seed + batch, 500);
            for (int i = 0; i < bodies.Length; i++)
            {
                string context = $"seed {seed + batch}, case {i}";
                byte[] input = Encoding.UTF8.GetBytes(bodies[i]);
                PreparedEvent result;
                try
                {
                    result = _intake.Prepare(_tenant, input);
                    if (result.Header is not null)
                    {
                        var envelope = EnvelopeCodec.Deserialize(Encoding.UTF8.GetString(result.EnvelopeJson.Span));
                        var parsed = MailgunEventParser.Parse(envelope.EventData!);
                        // Both readers read event and id the same way; an event without an id gets one derived by the parser.
                        Assert.That(parsed.EventType, Is.EqualTo(result.Header.EventType), context);
                        Assert.That(parsed.Id, result.Header.EventId == "-" ? Does.StartWith("sha256-") : Is.EqualTo(result.Header.EventId), context);
                    }
                }
                catch (Exception ex) when (ex is not AssertionException)
                {
                    Assert.Fail($"{context}: {ex.GetType().Name}: {ex.Message}\ninput: {Fuzz.Shorten(bodies[i])}");
                    return;
                }

                using (result)
                {
                    string reason = result.Header is not null ? "accepted" : result.Rejection!.Reason;
                    if (result.Rejection is { } r)
                    {
                        Assert.That(DocumentedRejections, Does.Contain((r.StatusCode, r.Reason)), context);
                        Assert.That(r.Detail, Is.Not.Null.And.Not.Empty, $"{context}: a rejection must say why");
                    }
                    else
                    {
                        accepted++;
                    }

                    reasons[reason] = reasons.GetValueOrDefault(reason) + 1;
                }
            }
        }

        TestContext.Out.WriteLine($"{GeneratedCases} generated cases: " + string.Join(", ", reasons.OrderBy(r => r.Key).Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.That(accepted, Is.GreaterThan(GeneratedCases / 4), "most generated bodies are signed, so their event-data is read");
        Assert.That(reasons.Keys, Is.SupersetOf(new[] { "accepted", "malformed_json", "signature_missing", "signature_invalid", "event_invalid" }));
    }

    /// <summary>
    /// 5,000 in the standard suite: the generator's interesting shares are guarded (HostileInputGuardTests) and every
    /// reason is required by name, so more cases add time, not coverage. MAILGUNFUNCTIONS_RELIABILITY_SCALE multiplies it.
    /// </summary>
    private static readonly int GeneratedCases = 5_000 * (int.TryParse(Environment.GetEnvironmentVariable("MAILGUNFUNCTIONS_RELIABILITY_SCALE"), out int f) && f > 1 ? f : 1);

    [FsCheck.NUnit.Property(MaxTest = 2000)]
    public bool Arbitrary_strings_are_answered_without_exceptions(string body)
    {
        using var result = _intake.Prepare(_tenant, Encoding.UTF8.GetBytes(body ?? ""));
        return result.Header is not null || DocumentedRejections.Contains((result.Rejection!.StatusCode, result.Rejection.Reason));
    }

    private static byte[][] SeedBodies()
    {
        var failed = SignedWebhook.Failed("joan@example.com", Now);
        var withStringCode = SignedWebhook.Failed("ana+tag@example.org", Now, message: "452 4.2.2 over quota", severity: "temporary", reason: "generic");
        withStringCode["delivery-status"]!["code"] = "452";
        return
        [
            Encoding.UTF8.GetBytes(SignedWebhook.Body(failed, Now)),
            Encoding.UTF8.GetBytes(SignedWebhook.Body(withStringCode, Now)),
            Encoding.UTF8.GetBytes(SignedWebhook.Body(SignedWebhook.Simple("complained", "bob@example.com", Now), Now)),
            Encoding.UTF8.GetBytes(SignedWebhook.Body(SignedWebhook.Simple("opened", "bob@example.com", Now), Now)),
        ];
    }

    private static readonly string[] Nasty =
    [
        "null", "true", "1e309", "-0", "99999999999999999999999999", "\"\"", "[]", "{}", "\"\\u0000\"", "\"\\ud800\"",
        "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]", "\"" + new string('a', 70_000) + "\"", "{\"a\":{\"b\":{\"c\":[1,{\"d\":null}]}}}",
    ];

    private static byte[] Mutate(Random random, byte[] original)
    {
        switch (random.Next(10))
        {
            case 0: // random bytes
            {
                var bytes = new byte[random.Next(0, 512)];
                random.NextBytes(bytes);
                return bytes;
            }

            case 1: // truncated
                return original[..random.Next(0, original.Length)];
            case 2: // flipped bytes
            {
                var bytes = (byte[])original.Clone();
                for (int n = random.Next(1, 4); n > 0; n--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return bytes;
            }

            case 3: // inserted bytes, often invalid UTF-8
            {
                int at = random.Next(original.Length);
                byte[] insert = random.Next(2) == 0 ? [0xC3] : [(byte)random.Next(256), 0xFF, (byte)'"'];
                return [.. original[..at], .. insert, .. original[at..]];
            }

            case 4: // a range deleted or doubled
            {
                int a = random.Next(original.Length), b = random.Next(a, original.Length);
                return random.Next(2) == 0 ? [.. original[..a], .. original[b..]] : [.. original[..b], .. original[a..]];
            }

            default: // structural: change the JSON tree, then (usually) sign it again so the event-data parser is reached
                return StructuralMutation(random, original);
        }
    }

    private static byte[] StructuralMutation(Random random, byte[] original)
    {
        var root = JObject.Parse(Encoding.UTF8.GetString(original));
        var eventData = (JObject)root["event-data"]!;
        var nodes = eventData.DescendantsAndSelf().OfType<JProperty>().ToList();
        var target = nodes[random.Next(nodes.Count)];
        switch (random.Next(4))
        {
            case 0:
                target.Value = JToken.Parse(Nasty[random.Next(Nasty.Length)]);
                break;
            case 1:
                if (target.Parent is JObject parent && target.Name != "event-data")
                {
                    parent.Remove(target.Name);
                }

                break;
            case 2:
                target.Value = new JArray(target.Value.DeepClone(), target.Value.DeepClone());
                break;
            default:
                root["signature"]![new[] { "timestamp", "token", "signature" }[random.Next(3)]] = JToken.Parse(Nasty[random.Next(Nasty.Length)]);
                return Encoding.UTF8.GetBytes(root.ToString(Formatting.None));
        }

        if (random.Next(4) != 0)
        {
            root = JObject.Parse(SignedWebhook.Body(eventData, Now));
        }

        string text = root.ToString(Formatting.None);
        if (random.Next(10) == 0)
        {
            // A duplicated key: Mailgun never sends one, a forger might.
            text = text.Replace("\"event\":", "\"event\":\"delivered\",\"event\":", StringComparison.Ordinal);
        }

        return Encoding.UTF8.GetBytes(text);
    }
}
