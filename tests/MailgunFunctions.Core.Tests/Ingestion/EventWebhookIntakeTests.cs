using System.Text;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Signatures;
using MailgunFunctions.Testing;
using MailgunFunctions.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Ingestion;

/// <summary>
/// The response matrix of the events webhook for everything decided before storage. Storage is
/// unreachable here, so a request that wrongly got as far as storage would answer 503 and fail the test.
/// </summary>
public class EventWebhookIntakeTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);
    private ServiceProvider _services = null!;
    private EventWebhookIntake _intake = null!;

    [SetUp]
    public void SetUp()
    {
        var configuration = TestSettings.Configuration(Azurite.Unreachable());
        _services = TestSettings.Services(configuration, (s, c) => s.AddMailgunCore(c), new FakeTimeProvider(Now));
        _intake = _services.GetRequiredService<EventWebhookIntake>();
    }

    [TearDown]
    public void TearDown() => _services.Dispose();

    private Task<IntakeResult> Accept(string body, string? contentType = "application/json", long? contentLength = -1) =>
        Accept(Encoding.UTF8.GetBytes(body), contentType, contentLength);

    private Task<IntakeResult> Accept(byte[] body, string? contentType = "application/json", long? contentLength = -1) =>
        _intake.AcceptAsync(null, new MemoryStream(body), contentLength == -1 ? body.Length : contentLength, contentType, CancellationToken.None);

    private static string Valid(Action<JObject>? change = null, DateTimeOffset? signedAt = null, string key = TestSettings.SigningKey)
    {
        var data = SignedWebhook.Failed("joan@example.com", Now);
        change?.Invoke(data);
        return SignedWebhook.Body(data, signedAt ?? Now, key: key);
    }

    private static string WithSignature(string timestamp, string token, string signature) => new JObject
    {
        ["signature"] = new JObject { ["timestamp"] = timestamp, ["token"] = token, ["signature"] = signature },
        ["event-data"] = SignedWebhook.Failed("joan@example.com", Now),
    }.ToString();

    [Test]
    public async Task Declared_length_over_the_limit_is_413_without_reading()
    {
        var result = await _intake.AcceptAsync(null, new UnreadableStream(), 2 * 1024 * 1024, "application/json", CancellationToken.None);
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((413, "body_too_large")));
    }

    [Test]
    public async Task Chunked_body_over_the_limit_is_413()
    {
        var result = await Accept(new byte[1024 * 1024 + 10], contentLength: null);
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((413, "body_too_large")));
    }

    [TestCase("application/x-www-form-urlencoded")]
    [TestCase("multipart/form-data; boundary=x")]
    public async Task Legacy_form_webhooks_are_406(string contentType)
    {
        var result = await Accept("timestamp=1&token=2&signature=3", contentType);
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((406, "unsupported_media_type")));
    }

    [TestCase("", TestName = "empty body")]
    [TestCase("{not json", TestName = "broken JSON")]
    [TestCase("[1,2,3]", TestName = "array")]
    [TestCase("\"text\"", TestName = "string")]
    [TestCase("{\"signature\":{}} trailing", TestName = "trailing content")]
    public async Task Malformed_json_is_400(string body)
    {
        var result = await Accept(body);
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((400, "malformed_json")));
        Assert.That(result.Detail, Is.Not.Null.And.Not.Empty);
    }

    /// <summary>
    /// A lone surrogate escape is valid JSON syntax but no text: every field the single pass reads must answer 400, not throw
    /// (a 500 before the signature check, found by an outside review).
    /// </summary>
    [TestCase("signature", "timestamp", TestName = "Lone surrogate in signature.timestamp is 400")]
    [TestCase("signature", "token", TestName = "Lone surrogate in signature.token is 400")]
    [TestCase("signature", "signature", TestName = "Lone surrogate in signature.signature is 400")]
    [TestCase("event-data", "event", TestName = "Lone surrogate in event-data.event is 400")]
    [TestCase("event-data", "id", TestName = "Lone surrogate in event-data.id is 400")]
    [TestCase("event-data", "timestamp", TestName = "Lone surrogate in event-data.timestamp is 400")]
    public async Task Lone_surrogate_escape_in_a_read_field_is_400_malformed_json(string block, string field)
    {
        var body = JObject.Parse(Valid());
        // A marker the JSON writer keeps as is, replaced by the raw escape afterwards (no JSON library writes a lone surrogate).
        body[block]![field] = "LONE-SURROGATE";
        string text = body.ToString(Newtonsoft.Json.Formatting.None).Replace("LONE-SURROGATE", "\\ud800", StringComparison.Ordinal);

        var result = await Accept(text);

        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((400, "malformed_json")));
        Assert.That(result.Detail, Does.Contain("surrogate"));
    }

    [TestCase("\\ud800x", TestName = "High surrogate followed by a letter is 400")]
    [TestCase("\\udc00", TestName = "Low surrogate alone is 400")]
    [TestCase("a\\ud800\\ud800", TestName = "Two high surrogates are 400")]
    public async Task Other_broken_surrogates_in_the_token_are_400(string escaped)
    {
        var body = JObject.Parse(Valid());
        body["signature"]!["token"] = "BROKEN";
        var result = await Accept(body.ToString(Newtonsoft.Json.Formatting.None).Replace("BROKEN", escaped, StringComparison.Ordinal));
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((400, "malformed_json")));
    }

    [Test]
    public async Task Lone_surrogate_escapes_in_property_names_are_400_malformed_json()
    {
        var body = JObject.Parse(Valid());
        ((JObject)body["signature"]!)["NAME-A"] = "x";
        ((JObject)body["event-data"]!)["NAME-B"] = "y";
        body["NAME-C"] = 1;
        string text = body.ToString(Newtonsoft.Json.Formatting.None).Replace("NAME-A", "\\ud800", StringComparison.Ordinal)
            .Replace("NAME-B", "\\udfff", StringComparison.Ordinal).Replace("NAME-C", "x\\ud800", StringComparison.Ordinal);
        var result = await Accept(text);
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((400, "malformed_json")), "a name is text as much as a value");
    }

    [Test]
    public async Task A_surrogate_pair_escape_is_text_and_does_not_stop_the_event()
    {
        var body = JObject.Parse(Valid());
        body["event-data"]!["id"] = "PAIR";
        var result = await Accept(body.ToString(Newtonsoft.Json.Formatting.None).Replace("PAIR", "id-\\ud83d\\ude00", StringComparison.Ordinal));
        Assert.That(result.StatusCode, Is.EqualTo(503), "passes every check (the signature does not cover event-data), then meets storage that is down");
    }

    [Test]
    public async Task Invalid_utf8_is_400()
    {
        byte[] body = [(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}'];
        var result = await Accept(body);
        Assert.That((result.StatusCode, result.Reason, result.Detail), Is.EqualTo((400, "malformed_json", "the body is not valid UTF-8")));
    }

    [Test]
    public async Task Deeply_nested_json_is_400_not_a_crash()
    {
        string body = new string('[', 100_000) + new string(']', 100_000);
        var result = await Accept("{\"a\":" + body + "}");
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((400, "malformed_json")));
    }

    [TestCase("{\"event-data\":{}}", "signature_missing")]
    [TestCase("{\"signature\":\"abc\"}", "signature_missing")]
    [TestCase("{\"signature\":{\"timestamp\":\"1\",\"token\":\"t\"}}", "signature_missing")]
    [TestCase("{\"signature\":{\"timestamp\":{},\"token\":\"t\",\"signature\":\"s\"}}", "signature_missing")]
    public async Task Missing_signature_parts_are_401(string body, string reason)
    {
        var result = await Accept(body);
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((401, reason)));
    }

    [Test]
    public async Task Wrong_signature_is_401()
    {
        var result = await Accept(Valid(key: "not-our-key"));
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((401, "signature_invalid")));
    }

    [Test]
    public async Task Signed_with_the_api_key_is_401()
    {
        var result = await Accept(Valid(key: TestSettings.ApiKey));
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((401, "signature_invalid")));
    }

    [Test]
    public async Task Non_hex_signature_is_401_not_an_exception()
    {
        var result = await Accept(WithSignature("1764158400", "tok", new string('z', 64)));
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((401, "signature_invalid")));
    }

    [Test]
    public async Task Float_timestamp_that_verifies_is_rejected_as_malformed()
    {
        // Correctly signed over a string that is not a whole number of seconds: 4xx, never 500.
        string ts = "1764158400.5", token = "abc";
        var result = await Accept(WithSignature(ts, token, SignatureVerifier.Sign(TestSettings.SigningKey, ts, token)));
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((401, "signature_malformed")));
    }

    [Test]
    public async Task Overlong_token_is_401()
    {
        string ts = "1764158400", token = new('a', 300);
        var result = await Accept(WithSignature(ts, token, SignatureVerifier.Sign(TestSettings.SigningKey, ts, token)));
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((401, "signature_malformed")));
    }

    [Test]
    public async Task Stale_signature_beyond_the_window_is_401()
    {
        var result = await Accept(Valid(signedAt: Now.AddHours(-12).AddMinutes(-1)));
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((401, "timestamp_stale")));
    }

    [Test]
    public async Task Future_signature_beyond_the_skew_is_401()
    {
        var result = await Accept(Valid(signedAt: Now.AddMinutes(6)));
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((401, "timestamp_in_future")));
    }

    [Test]
    public async Task Signature_eight_hours_old_is_inside_the_default_window()
    {
        // A Mailgun retry near the end of its ~8 hour horizon carries the original signature. It must get past
        // freshness: here it reaches storage, which is down, so the answer is 503 (retry), not a 401.
        var result = await Accept(Valid(signedAt: Now.AddHours(-8)));
        Assert.That(result.StatusCode, Is.EqualTo(503));
    }

    [Test]
    public async Task Authentic_event_without_an_id_is_still_accepted()
    {
        // Trimmed and older producers omit the id; the event still counts (the parser derives a stable id).
        var result = await Accept(Valid(d => d.Remove("id")));
        Assert.That(result.StatusCode, Is.Not.EqualTo(406));
    }

    [TestCase("event", "event_missing")]
    [TestCase("timestamp", "timestamp_missing")]
    public async Task Authentic_event_missing_a_required_field_is_406(string field, string detail)
    {
        var result = await Accept(Valid(d => d.Remove(field)));
        Assert.That((result.StatusCode, result.Reason, result.Detail), Is.EqualTo((406, "event_invalid", detail)));
    }

    [Test]
    public async Task Authentic_body_without_event_data_is_406()
    {
        string ts = Now.ToUnixTimeSeconds().ToString(), token = SignedWebhook.NewToken();
        var body = new JObject
        {
            ["signature"] = new JObject { ["timestamp"] = ts, ["token"] = token, ["signature"] = SignatureVerifier.Sign(TestSettings.SigningKey, ts, token) },
        };
        var result = await Accept(body.ToString());
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((406, "event_invalid")));
    }

    [Test]
    public async Task Unknown_fields_and_string_codes_are_accepted_up_to_storage()
    {
        var result = await Accept(Valid(d =>
        {
            d["brand-new-field"] = new JObject { ["x"] = 1 };
            d["delivery-status"]!["code"] = "550";
        }));
        Assert.That(result.StatusCode, Is.EqualTo(503), "passes every check, then meets storage that is down");
    }

    private sealed class UnreadableStream : MemoryStream
    {
        public override int Read(byte[] buffer, int offset, int count) => throw new AssertionException("the body must not be read");

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            throw new AssertionException("the body must not be read");
    }
}
