using System.Text;
using MailgunFunctions.App;
using MailgunFunctions.Testing;
using MailgunFunctions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Reliability;

/// <summary>
/// Mutation fuzzing of both webhooks through their function classes (the whole path, storage included): random bytes,
/// truncated and bit-flipped bodies, invalid UTF-8, wrong content types, huge fields, missing and duplicated form fields,
/// bodies without Content-Length read in small chunks. Every answer must be a documented outcome with a reason: never a
/// 500, never an exception. Seeded: the seed and case number are in every failure message.
/// </summary>
[Category("Reliability")]
[NonParallelizable]
public class WebhookFuzzTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private static readonly string?[] FormContentTypes =
    [
        null, "", "application/json", "text/plain", "multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=nope",
        "multipart/mixed; boundary=x", "application/x-www-form-urlencoded; charset=utf-16", "application/x-www-form-urlencoded; charset=nonsense",
        "APPLICATION/X-WWW-FORM-URLENCODED", "application/octet-stream", "form-data", ";;;", "multipart/form-data; boundary=\"" + new string('b', 200) + "\"",
    ];

    private static readonly string?[] JsonContentTypes =
    [
        "application/json", "application/json; charset=utf-8", "Application/JSON", "text/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
        "text/plain", null, "", "application/json; charset=latin1", "application/cloudevents+json",
    ];

    private static readonly byte[][] InvalidUtf8 = [[0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xF0, 0x28, 0x8C, 0x28], [0xC0, 0xAF], [0x00]];

    // 5,000 with storage down: each answer it can reach is required by name and reached hundreds of times (20,000 added
    // time, not coverage); MAILGUNFUNCTIONS_RELIABILITY_SCALE multiplies both counts.
    [TestCase(false, 5_000, TestName = "Inbound webhook: 5,000 mutated posts with storage down")]
    [TestCase(true, 1_000, TestName = "Inbound webhook: 1,000 mutated posts against Azurite")]
    public async Task Inbound_webhook_answers_every_mutated_post_with_a_documented_outcome(bool realStorage, int cases)
    {
        cases = ReliabilityScale.Of(cases);
        const int seed = 20261126;
        var random = new Random(seed + (realStorage ? 1 : 0));
        string storage = realStorage ? await Azurite.SharedConnectionStringAsync() : Azurite.Unreachable();
        // A 1 MB limit (the smallest sensible is 64 KB) so the huge fields also meet the size check.
        using var app = new AppServices(storage, Now, new Dictionary<string, string?> { ["Inbound:MaxRequestBytes"] = "1048576" });
        var webhook = app.Function<InboundWebhook>();
        var outcomes = new Dictionary<string, int>();
        for (int i = 0; i < cases; i++)
        {
            var (body, contentType, chunked) = MutatedInboundPost(random);
            string context = $"seed {seed}, case {i}, content type '{contentType}', {body.Length} bytes";
            Count(outcomes, await AnswerAsync(() => webhook.RunAsync(Request(body, contentType, chunked, random), CancellationToken.None), context));
        }

        TestContext.Out.WriteLine($"{cases} inbound cases: " + string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")));
        Assert.That(outcomes.Keys.Select(k => k.Split(' ')[1]), Is.SupersetOf(InboundReasonsRequired(realStorage)), "the mutations reach every check they can reach");
    }

    [Test]
    public async Task Events_webhook_answers_every_mutated_delivery_with_a_documented_outcome_against_Azurite()
    {
        int cases = ReliabilityScale.Of(3_000);
        const int seed = 8;
        var random = new Random(seed);
        using var app = new AppServices(await Azurite.SharedConnectionStringAsync(), Now);
        var webhook = app.Function<EventsWebhook>();
        var outcomes = new Dictionary<string, int>();
        string? previousToken = null;
        for (int i = 0; i < cases; i++)
        {
            var data = SignedWebhook.Failed($"fuzz{random.Next(1000)}@example.com", Now.AddMinutes(-2));
            // Now and then signed in the future or long ago, or with the previous case's token on another body (a replay when
            // that case was claimed); otherwise signed a minute ago. Only what is left unmutated reaches the clock and the claim.
            int timing = random.Next(20);
            string token = timing == 0 && previousToken is not null ? previousToken : SignedWebhook.NewToken();
            var signedAt = timing switch { 1 => Now.AddHours(1), 2 => Now.AddDays(-2), _ => Now.AddMinutes(-1) };
            previousToken = token;
            byte[] body = Encoding.UTF8.GetBytes(SignedWebhook.Body(data, signedAt, token));
            body = MutateBytes(body, random, random.Next(6));
            string? contentType = random.Next(3) == 0 ? JsonContentTypes[random.Next(JsonContentTypes.Length)] : "application/json";
            bool chunked = random.Next(2) == 0;
            string context = $"seed {seed}, case {i}, content type '{contentType}', {body.Length} bytes";
            Count(outcomes, await AnswerAsync(() => webhook.RunAsync(Request(body, contentType, chunked, random), CancellationToken.None), context));
        }

        TestContext.Out.WriteLine($"{cases} events cases: " + string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")));
        Assert.That(outcomes.Keys, Is.SupersetOf(new[]
        {
            "200 accepted", "400 malformed_json", "406 unsupported_media_type", "401 signature_invalid", "401 timestamp_in_future", "401 timestamp_stale",
            "401 token_replayed", "401 signature_missing", "406 event_invalid",
        }), "the mutations reach every check of the events webhook");
    }

    /// <summary>
    /// What each inbound run must reach: with storage up every check of the intake up to the queue (the claim's duplicate and
    /// replay included); with storage down every check before storage, and the 503 (the tenant-URL reasons need a tenant in
    /// the URL, which these runs do not use: <c>tenant_unknown</c>, <c>parent_signature_not_for_tenant</c>).
    /// </summary>
    private static string[] InboundReasonsRequired(bool realStorage) => realStorage
        ?
        [
            "accepted", "duplicate", "malformed_form", "not_a_form", "body_too_large", "signature_missing", "signature_malformed", "signature_invalid",
            "timestamp_stale", "timestamp_in_future", "token_replayed", "inbound_invalid",
        ]
        : ["storage_unavailable", "malformed_form", "not_a_form", "body_too_large", "signature_missing", "signature_malformed", "signature_invalid", "timestamp_stale",
            "timestamp_in_future", "inbound_invalid"];

    /// <summary>
    /// Guards the inbound fuzz runs: together they must require every answer docs/inbound.md documents, so a reason added to the
    /// docs (or a run that stops requiring one) fails here.
    /// </summary>
    [Test]
    public void Inbound_fuzz_runs_require_every_documented_inbound_answer()
    {
        // The "Answers" table of docs/inbound.md: its second column names the outcomes (the first row is the header).
        string page = File.ReadAllText(Path.Combine(RepositoryRoot.Find(), "docs", "inbound.md"));
        page = page[page.IndexOf("## Answers", StringComparison.Ordinal)..];
        var rows = page.Split('\n').SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')).Skip(2);
        var documented = rows.SelectMany(r => System.Text.RegularExpressions.Regex.Matches(r.Split('|')[2], "`([a-z_]+)`").Select(m => m.Groups[1].Value)).ToHashSet();
        Assert.That(documented, Has.Count.GreaterThanOrEqualTo(12), "the answers table was found");
        Assert.That(InboundReasonsRequired(true).Union(InboundReasonsRequired(false)), Is.EquivalentTo(documented));
    }

    /// <summary>The list the fuzz tests check answers against is every reason IntakeResult can make, no more and no less.</summary>
    [Test]
    public void Documented_reasons_are_exactly_the_reasons_an_intake_can_answer()
    {
        static object? Argument(System.Reflection.ParameterInfo p) =>
            p.ParameterType == typeof(string) ? "x"
            : p.ParameterType == typeof(long) || p.ParameterType == typeof(long?) ? 1L
            : p.ParameterType == typeof(int) ? 1
            : p.ParameterType == typeof(TimeSpan) ? TimeSpan.FromMinutes(1)
            : p.ParameterType.IsValueType ? Activator.CreateInstance(p.ParameterType) : null;
        const System.Reflection.BindingFlags Static = System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static;
        var reasons = typeof(IntakeResult).GetFields(Static).Where(f => f.FieldType == typeof(IntakeResult)).Select(f => (IntakeResult)f.GetValue(null)!)
            .Concat(typeof(IntakeResult).GetProperties(Static).Where(p => p.PropertyType == typeof(IntakeResult)).Select(p => (IntakeResult)p.GetValue(null)!))
            .Concat(typeof(IntakeResult).GetMethods(Static).Where(m => m.ReturnType == typeof(IntakeResult) && !m.IsSpecialName)
                .Select(m => (IntakeResult)m.Invoke(null, m.GetParameters().Select(Argument).ToArray())!))
            .Select(r => r.Reason).ToHashSet();
        Assert.That(ReliabilityScale.DocumentedReasons, Is.EquivalentTo(reasons));
    }

    /// <summary>The documented outcome of one request; an exception out of the function fails the test with the case.</summary>
    private static async Task<string> AnswerAsync(Func<Task<IActionResult>> send, string context)
    {
        IActionResult result;
        try
        {
            result = await send();
        }
        catch (Exception ex)
        {
            throw new AssertionException($"{context}: {ex}");
        }

        return Check((ContentResult)result, context);
    }

    private static string Check(ContentResult result, string context)
    {
        var answer = JObject.Parse(result.Content!);
        string reason = (string?)answer["outcome"] ?? "";
        Assert.That(result.StatusCode, Is.Not.EqualTo(500).And.Not.Null, context);
        Assert.That(ReliabilityScale.DocumentedReasons, Does.Contain(reason), context);
        if (result.StatusCode != 200)
        {
            Assert.That((string?)answer["detail"], Is.Not.Null.And.Not.Empty, $"{context}: a rejection says why");
        }

        return $"{result.StatusCode} {reason}";
    }

    private static void Count(Dictionary<string, int> outcomes, string outcome) => outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;

    private string? _lastToken;
    private (byte[] Body, string? ContentType)? _lastPost;

    /// <summary>
    /// The kinds of mutated post (of 14, drawn evenly): 0 noise; 1 a huge field; 2 fields dropped; 3 a field repeated; 4-8 the
    /// bytes mutated; 9 the previous post's token on this body (a replay when that post was claimed); 10 the previous post
    /// resent unchanged (a Mailgun retry: a duplicate when it was accepted); 11 no recipient; 12 a token longer than any of
    /// Mailgun's; 13 signed in the future past the allowed clock skew. Every other post is signed a moment ago, one in five of
    /// them long ago or in the future, one in ten with the API key.
    /// </summary>
    private (byte[] Body, string? ContentType, bool Chunked) MutatedInboundPost(Random random)
    {
        var fields = InboundPost.ParsedReply(subject: "Re: offer " + random.Next());
        int kind = random.Next(14);
        if (kind == 0)
        {
            // Pure noise.
            byte[] noise = new byte[random.Next(0, 4096)];
            random.NextBytes(noise);
            return (noise, random.Next(2) == 0 ? "application/x-www-form-urlencoded" : "multipart/form-data; boundary=x", random.Next(2) == 0);
        }

        if (kind == 10 && _lastPost is { } last)
        {
            return (last.Body, last.ContentType, random.Next(3) == 0);
        }

        if (kind == 1)
        {
            // A huge field (occasionally past the intake's limit when sent chunked).
            fields.Add(new("body-html", new string('h', random.Next(64 * 1024, 2 * 1024 * 1024))));
        }

        if (kind == 11)
        {
            fields.RemoveAll(f => f.Key == "recipient");
        }

        string? token = kind switch
        {
            9 => _lastToken,
            12 => new string('t', Webhooks.WebhookAuthenticator.MaxTokenLength + 1 + random.Next(100)),
            _ => null,
        };
        var signed = kind is 9 or 11 or 12
            ? InboundPost.Signed(fields, Now.AddSeconds(-30), token)
            : kind == 13
            ? InboundPost.Signed(fields, Now.AddMinutes(random.Next(6, 600)))
            : random.Next(5) == 0
            ? InboundPost.Signed(fields, Now.AddMinutes(random.Next(2) == 0 ? -60 * 24 * 2 : 10))
            : InboundPost.Signed(fields, Now.AddSeconds(-random.Next(0, 120)), key: random.Next(10) == 0 ? TestSettings.ApiKey : TestSettings.SigningKey);
        if (kind == 2 && signed.Count > 0)
        {
            // Missing fields, signature ones included.
            int drop = random.Next(1, 4);
            for (int d = 0; d < drop && signed.Count > 0; d++)
            {
                signed.RemoveAt(random.Next(signed.Count));
            }
        }

        if (kind == 3 && signed.Count > 0)
        {
            // Duplicated fields, with the same or another value.
            var field = signed[random.Next(signed.Count)];
            signed.Insert(random.Next(signed.Count + 1), new(field.Key, random.Next(2) == 0 ? field.Value : "other" + random.Next()));
        }

        _lastToken = signed.LastOrDefault(f => f.Key == "token").Value;
        var (body, contentType) = random.Next(2) == 0
            ? InboundPost.UrlEncoded(signed)
            : InboundPost.Multipart(signed, random.Next(2) == 0 ? [] : [new InboundFile("attachment-1", "a.txt", "text/plain", Encoding.UTF8.GetBytes("hello"))]);
        if (kind is >= 4 and < 9)
        {
            body = MutateBytes(body, random, random.Next(1, 6));
        }

        if (random.Next(6) == 0)
        {
            contentType = FormContentTypes[random.Next(FormContentTypes.Length)]!;
        }

        _lastPost = (body, contentType);
        return (body, contentType, random.Next(3) == 0);
    }

    /// <summary>0: unchanged; 1: truncated; 2: bytes flipped; 3: invalid UTF-8 inserted; 4: a slice repeated; 5: nested brackets.</summary>
    private static byte[] MutateBytes(byte[] body, Random random, int mutation)
    {
        var bytes = body.ToList();
        switch (mutation)
        {
            case 1:
                return body[..random.Next(body.Length)];
            case 2:
                for (int n = random.Next(1, 20); n > 0 && bytes.Count > 0; n--)
                {
                    bytes[random.Next(bytes.Count)] ^= (byte)(1 << random.Next(8));
                }

                break;
            case 3:
                bytes.InsertRange(random.Next(bytes.Count + 1), InvalidUtf8[random.Next(InvalidUtf8.Length)]);
                break;
            case 4:
                int start = random.Next(bytes.Count), length = random.Next(Math.Min(512, bytes.Count - start) + 1);
                bytes.InsertRange(random.Next(bytes.Count + 1), bytes.GetRange(start, length));
                break;
            case 5:
                int depth = random.Next(10, 5000);
                bytes.InsertRange(random.Next(bytes.Count + 1), Encoding.ASCII.GetBytes(new string('[', depth) + new string(']', depth)));
                break;
        }

        return [.. bytes];
    }

    /// <summary>A request as the host hands it over; chunked ones have no Content-Length and arrive in small reads.</summary>
    private static HttpRequest Request(byte[] body, string? contentType, bool chunked, Random random)
    {
        var request = AppServices.Post(body, contentType, sendContentLength: !chunked);
        if (chunked)
        {
            request.Body = new ChunkedStream(body, random.Next(1, 4096));
        }
        else if (random.Next(20) == 0)
        {
            // A Content-Length that lies (a proxy or a truncated transfer).
            request.ContentLength = Math.Max(0, body.Length + random.Next(-100, 100));
        }

        return request;
    }

    /// <summary>Returns at most <c>chunk</c> bytes per read, as a chunked transfer does.</summary>
    private sealed class ChunkedStream(byte[] data, int chunk) : MemoryStream(data, writable: false)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, chunk)]);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            base.ReadAsync(buffer, offset, Math.Min(count, chunk), cancellationToken);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
    }
}
