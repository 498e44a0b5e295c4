using System.Text;
using MailgunFunctions.Inbound;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Signatures;
using MailgunFunctions.Testing;
using MailgunFunctions.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace MailgunFunctions.Tests.Inbound;

/// <summary>
/// The answers of the inbound webhook decided before storage. Storage is unreachable here, so a post that
/// wrongly got as far as storage would answer 503 and fail the test; one that rightly gets there answers 503.
/// </summary>
public class InboundWebhookIntakeTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 3, 10, 16, 0, TimeSpan.Zero);
    private ServiceProvider _services = null!;
    private InboundWebhookIntake _intake = null!;

    [SetUp]
    public void SetUp() => Build(Now);

    [TearDown]
    public void TearDown() => _services.Dispose();

    private void Build(DateTimeOffset now, IDictionary<string, string?>? overrides = null)
    {
        var configuration = TestSettings.Configuration(Azurite.Unreachable(), overrides);
        _services = TestSettings.Services(configuration, (s, c) => s.AddMailgunCore(c), new FakeTimeProvider(now));
        _intake = _services.GetRequiredService<InboundWebhookIntake>();
    }

    private Task<IntakeResult> Accept((byte[] Body, string ContentType) post, long? contentLength = -1) =>
        _intake.AcceptAsync(null, new MemoryStream(post.Body), contentLength == -1 ? post.Body.Length : contentLength, post.ContentType, CancellationToken.None);

    private static List<KeyValuePair<string, string>> Signed(DateTimeOffset? at = null, string key = TestSettings.SigningKey) =>
        InboundPost.Signed(InboundPost.ParsedReply(), at ?? Now, key: key);

    [Test]
    public async Task Signed_urlencoded_reply_gets_as_far_as_storage()
    {
        var result = await Accept(InboundPost.UrlEncoded(Signed()));
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((503, "storage_unavailable")));
    }

    [Test]
    public async Task Signed_multipart_reply_gets_as_far_as_storage()
    {
        var result = await Accept(InboundPost.Multipart(Signed(), [new InboundFile("attachment-1", "a.pdf", "application/pdf", new byte[5000])]));
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((503, "storage_unavailable")));
    }

    [Test]
    public async Task Forged_signature_is_401()
    {
        var result = await Accept(InboundPost.UrlEncoded(Signed(key: "an-attackers-guess")));
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((401, "signature_invalid")));
    }

    [Test]
    public async Task Stale_signature_is_401_by_the_same_window_as_events()
    {
        var result = await Accept(InboundPost.UrlEncoded(Signed(Now.AddHours(-13))));
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((401, "timestamp_stale")));
    }

    [Test]
    public async Task Missing_signature_fields_are_401()
    {
        var fields = Signed().Where(f => f.Key != "signature").ToList();
        var result = await Accept(InboundPost.UrlEncoded(fields));
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((401, "signature_missing")));
    }

    [Test]
    public async Task Repeated_signature_fields_take_the_last_value()
    {
        // Legacy user variables named like the signature fields come first; Mailgun's own come last.
        var fields = new List<KeyValuePair<string, string>> { new("token", "user-variable"), new("timestamp", "1"), new("signature", "zz") };
        fields.AddRange(Signed());
        var result = await Accept(InboundPost.UrlEncoded(fields));
        Assert.That(result.StatusCode, Is.EqualTo(503));
    }

    [Test]
    public async Task V3_vector_sent_as_a_real_form_field_verifies()
    {
        // Vector V3 of SignatureVerifierTests (a token holding "+", "/", "=" and "%26"): each must survive form decoding exactly once.
        _services.Dispose();
        Build(DateTimeOffset.FromUnixTimeSeconds(1700000000).AddMinutes(1), new Dictionary<string, string?> { ["Mailgun:SigningKeys:tricky"] = "whsec-tricky-0001" });
        string token = "AbC+/=%26&x y_-.~0123456789abcdefghij!*'()[]{}|\\Zz";
        var fields = InboundPost.ParsedReply();
        fields.Add(new("timestamp", "1700000000"));
        fields.Add(new("token", token));
        fields.Add(new("signature", "ac4137f87c6b02494a3aa636dcd15fa4179abaae545c77323c866632cfc236e9"));
        var post = InboundPost.UrlEncoded(fields);
        Assert.That(Encoding.ASCII.GetString(post.Body), Does.Contain("token=AbC%2B%2F%3D%2526%26x+y_-.~0123456789abcdefghij%21%2A%27%28%29%5B%5D%7B%7D%7C%5CZz"));

        var result = await Accept(post);
        Assert.That(result.StatusCode, Is.EqualTo(503), "verified, then stopped by the unreachable storage");

        // N5: the same token with "+" decoded as a space must not verify.
        var wrong = fields.Select(f => f.Key == "token" ? new KeyValuePair<string, string>("token", token.Replace('+', ' ')) : f).ToList();
        Assert.That((await Accept(InboundPost.UrlEncoded(wrong))).Reason, Is.EqualTo("signature_invalid"));
    }

    [Test]
    public async Task Declared_length_over_the_limit_is_413_without_reading()
    {
        var result = await _intake.AcceptAsync(null, Stream.Null, 40L * 1024 * 1024 + 1, "application/x-www-form-urlencoded", CancellationToken.None);
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((413, "body_too_large")));
    }

    [Test]
    public async Task Chunked_body_over_the_configured_limit_is_413_while_streaming()
    {
        _services.Dispose();
        Build(Now, new Dictionary<string, string?> { ["Inbound:MaxRequestBytes"] = "100000" });
        var fields = Signed();
        fields.Add(new("body-html", new string('x', 120_000)));
        var result = await Accept(InboundPost.UrlEncoded(fields), contentLength: null);
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((413, "body_too_large")));
    }

    [Test]
    public async Task A_25_MB_raw_mime_post_is_accepted_up_to_storage()
    {
        // Larger than ASP.NET Core's 4 MB form value limit and Kestrel's 30 MB default once urlencoded.
        string mime = InboundMessages.PlainReply() + new string('y', 25 * 1024 * 1024);
        var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.RawMime(mime), Now));
        var result = await Accept(post, contentLength: null);
        Assert.That(result.StatusCode, Is.EqualTo(503));
    }

    [Test]
    public async Task A_25_MB_post_is_streamed_not_held_in_memory()
    {
        string mime = InboundMessages.PlainReply() + new string('y', 25 * 1024 * 1024);
        var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.RawMime(mime), Now));
        await Accept(InboundPost.UrlEncoded(Signed())); // warm-up: first-call allocations (JIT, clients) are not the post's

        long before = GC.GetTotalAllocatedBytes(precise: true);
        var result = await Accept(post, contentLength: null);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        TestContext.Out.WriteLine($"allocated {allocated:N0} bytes for a {post.Body.Length:N0} byte post");
        Assert.That(result.StatusCode, Is.EqualTo(503));
        Assert.That(allocated, Is.LessThan(8L * 1024 * 1024), $"allocated {allocated:N0} bytes for a {post.Body.Length:N0} byte post");
    }

    [TestCase("application/json")]
    [TestCase("text/plain")]
    [TestCase("multipart/form-data")]
    [TestCase(null)]
    public async Task Not_a_form_is_406(string? contentType)
    {
        var result = await _intake.AcceptAsync(null, new MemoryStream(Encoding.UTF8.GetBytes("{}")), 2, contentType, CancellationToken.None);
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((406, "not_a_form")));
    }

    [Test]
    public async Task Truncated_multipart_is_400_so_mailgun_retries()
    {
        var (body, contentType) = InboundPost.Multipart(Signed(), []);
        var result = await Accept((body[..(body.Length / 2)], contentType));
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((400, "malformed_form")));
    }

    [Test]
    public async Task Authentic_post_without_a_recipient_is_406()
    {
        var fields = Signed().Where(f => f.Key != "recipient").ToList();
        var result = await Accept(InboundPost.UrlEncoded(fields));
        Assert.That((result.StatusCode, result.Reason), Is.EqualTo((406, "inbound_invalid")));
    }

    [Test]
    public void Signing_helper_matches_vector_v3()
    {
        Assert.That(SignatureVerifier.Sign("whsec-tricky-0001", "1700000000", "AbC+/=%26&x y_-.~0123456789abcdefghij!*'()[]{}|\\Zz"),
            Is.EqualTo("ac4137f87c6b02494a3aa636dcd15fa4179abaae545c77323c866632cfc236e9"));
    }
}
