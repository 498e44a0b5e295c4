using System.Text;
using MailgunFunctions.Signatures;
using MailgunFunctions.Testing;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Reliability;

/// <summary>
/// Guards of the fuzz generators (<see cref="HostileInput"/>): each one must keep producing the inputs that make its fuzz
/// test worth running, in a share large enough that the standard run meets them many times. A generator that drifts (a
/// signature that no longer verifies, JSON that no longer parses, a hostile case that disappears) fails here, by name,
/// instead of quietly testing less. Shares are measured on a fixed seed, as the fuzz tests draw them.
/// </summary>
[Category("Reliability")]
public class HostileInputGuardTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private const int Samples = 1_000;

    private static double Share<T>(IReadOnlyCollection<T> samples, Func<T, bool> interesting) => samples.Count(interesting) / (double)samples.Count;

    /// <summary>Parses JSON as the product's readers do, without a depth limit (the deep cases must parse to be counted).</summary>
    private static JToken? Json(string text)
    {
        try
        {
            using var reader = new JsonTextReader(new StringReader(text)) { MaxDepth = null, DateParseHandling = DateParseHandling.None };
            var token = JToken.ReadFrom(reader);
            return reader.Read() ? null : token;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A scalar's text; null for objects, arrays and null.</summary>
    private static string? Scalar(JToken? token) => token is JValue { Value: { } value } ? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) : null;

    private static bool StrictJson(string text)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(text);
            return true;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private static int Depth(JToken token) => token is JContainer c && c.HasValues ? 1 + c.Children().Max(Depth) : 1;

    private static void Report(string generator, params (string What, double Share, double AtLeast)[] shares)
    {
        TestContext.Out.WriteLine(generator + ": " + string.Join(", ", shares.Select(s => $"{s.What} {s.Share:P1}")));
        Assert.Multiple(() =>
        {
            foreach (var (what, share, atLeast) in shares)
            {
                Assert.That(share, Is.GreaterThanOrEqualTo(atLeast), $"{generator}: {what}");
            }
        });
    }

    [Test]
    public void Events_webhook_bodies_are_mostly_json_that_passes_the_signature_with_hostile_event_data()
    {
        var bodies = HostileInput.Sample(HostileInput.EventsWebhookBody(Now, TestSettings.SigningKey), seed: 2101, count: Samples);
        var parsed = bodies.Select(Json).ToList();
        bool Signed(JToken? body) => body is JObject o && o["signature"] is JObject s && s["timestamp"] is JValue { Type: JTokenType.String } t
            && s["token"] is JValue { Type: JTokenType.String } k && Scalar(s["signature"]) == SignatureVerifier.Sign(TestSettings.SigningKey, Scalar(t)!, Scalar(k)!);
        Report(nameof(HostileInput.EventsWebhookBody),
            ("JSON objects (a parser is under test: most must get past it)", Share(parsed, p => p is JObject), 0.6),
            ("signed with the key (reach the event checks)", Share(parsed, Signed), 0.4),
            ("signed, with an event-data object naming an event", Share(parsed, p => Signed(p) && p!["event-data"] is JObject d && d["event"] is JValue { Type: JTokenType.String }), 0.3),
            ("refused by a strict reader (System.Text.Json's defaults: depth, lone surrogates)", Share(bodies, b => !StrictJson(b)), 0.02),
            ("nested deeper than 64", Share(parsed, p => p is not null && Depth(p) > 64), 0.01),
            ("an unpaired surrogate escape", Share(bodies, b => b.Contains("\\ud800", StringComparison.Ordinal) || b.Contains("\\udfff", StringComparison.Ordinal)), 0.1));
    }

    [Test]
    public void Event_queue_messages_are_mostly_envelopes_around_generated_events()
    {
        var messages = HostileInput.Sample(HostileInput.EventEnvelopeText, seed: 2001, count: Samples);
        var parsed = messages.Select(Json).ToList();
        Report(nameof(HostileInput.EventEnvelopeText),
            ("JSON objects", Share(parsed, p => p is JObject), 0.7),
            ("envelopes of version 1 with an eventData object", Share(parsed, p => p is JObject o && Scalar(o["v"]) == "1" && o["eventData"] is JObject), 0.5),
            ("a foreign value (not an object)", Share(parsed, p => p is not JObject), 0.02),
            ("naming a claim-check blob", Share(parsed, p => p is JObject o && o["payloadBlob"] is not null), 0.01));
    }

    [Test]
    public void Route_posts_are_mostly_signed_for_the_recipient_with_json_headers_and_raw_mime()
    {
        const string recipient = "reply@fuzz.example.com";
        var posts = HostileInput.Sample(HostileInput.InboundFields(recipient, Now, TestSettings.SigningKey), seed: 2201, count: Samples);
        string? Field(List<KeyValuePair<string, byte[]>> post, string name) => post.LastOrDefault(f => f.Key == name) is { Value: { } v } ? Encoding.UTF8.GetString(v) : null;
        bool Signed(List<KeyValuePair<string, byte[]>> post) =>
            Field(post, "signature") == SignatureVerifier.Sign(TestSettings.SigningKey, Field(post, "timestamp")!, Field(post, "token")!);
        var parsedForm = posts.Where(p => Field(p, "body-mime") is null).ToList();
        Report(nameof(HostileInput.InboundFields),
            ("signed with the key", Share(posts, Signed), 0.7),
            ("for the recipient", Share(posts, p => Field(p, "recipient") == recipient), 0.8),
            ("raw MIME (body-mime)", Share(posts, p => Field(p, "body-mime") is not null), 0.15),
            ("parsed posts whose message-headers parse as a JSON array of pairs (the processor's JSON reader is under test)",
                Share(parsedForm, p => Json(Field(p, "message-headers") ?? "") is JArray a && a.All(h => h is JArray { Count: 2 })), 0.5),
            ("parsed posts whose message-headers are other JSON or none", Share(parsedForm, p => Json(Field(p, "message-headers") ?? "") is not JArray), 0.05));
    }

    [Test]
    public void Mime_messages_hold_reports_nested_parts_odd_encodings_and_cuts()
    {
        var messages = HostileInput.Sample(HostileInput.Mime, seed: 2301, count: Samples);
        Report(nameof(HostileInput.Mime),
            ("delivery status reports", Share(messages, m => m.Contains("message/delivery-status", StringComparison.Ordinal)), 0.1),
            ("nested multiparts", Share(messages, m => m.Contains("boundary=\"n1\"", StringComparison.Ordinal)), 0.05),
            ("odd charsets or transfer encodings", Share(messages, m => m.Contains("x-unknown", StringComparison.Ordinal) || m.Contains("quoted-printable", StringComparison.Ordinal)), 0.1),
            ("cut short (no MIME-Version line)", Share(messages, m => !m.Contains("MIME-Version", StringComparison.Ordinal)), 0.05));
    }

    [Test]
    public void Unsubscribe_forms_and_link_parts_hold_the_real_forms_and_hostile_text()
    {
        var forms = HostileInput.Sample(HostileInput.UnsubscribeForm, seed: 2401, count: Samples);
        var parts = HostileInput.Sample(HostileInput.LinkPart, seed: 2402, count: Samples);
        Report(nameof(HostileInput.UnsubscribeForm),
            ("the one-click form", Share(forms, f => f == "List-Unsubscribe=One-Click"), 0.05),
            ("the page's button", Share(forms, f => f == "action=unsubscribe"), 0.05),
            ("anything else", Share(forms, f => f is not "List-Unsubscribe=One-Click" and not "action=unsubscribe"), 0.3));
        Report(nameof(HostileInput.LinkPart),
            ("ordinary", Share(parts, p => p is "mg.example.com" or "joan@example.com" or "c-1" or "spring"), 0.3),
            ("with a lone surrogate or a control character", Share(parts, p => p.Any(c => char.IsSurrogate(c) || char.IsControl(c))), 0.05));
    }
}
