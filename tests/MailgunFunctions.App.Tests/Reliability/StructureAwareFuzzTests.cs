using System.Security.Cryptography;
using System.Text;
using Azure.Storage.Blobs;
using FsCheck.Fluent;
using MailgunFunctions.App;
using MailgunFunctions.Inbound;
using MailgunFunctions.PlatformUnsubscribe;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Reliability;

/// <summary>
/// Structure-aware fuzzing of every entry point with generated input (<see cref="HostileInput"/>: FsCheck generators that know
/// the shape of what they attack, and put unpaired surrogates, numbers past their limits, duplicates, deep nesting, huge
/// values and wrong types into every field), through the function classes and the queue processors, against Azurite.
/// Invariant: never an exception (storage does not fail here) and never a 500; bad input gets a documented 4xx with a
/// reason, a queue message ends stored or parked with one. Seeded: the seed and case are in every failure.
/// </summary>
[Category("Reliability")]
[NonParallelizable]
public class StructureAwareFuzzTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    private static async Task<T> Run<T>(Func<Task<T>> attempt, string context, string input)
    {
        try
        {
            return await attempt();
        }
        catch (Exception ex)
        {
            throw new AssertionException($"{context}: {ex}\ninput: {Fuzz.Shorten(input)}");
        }
    }

    private static void Count(Dictionary<string, int> outcomes, string outcome) => outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;

    private static string Outcome(IActionResult result, string context)
    {
        var content = (ContentResult)result;
        var answer = JObject.Parse(content.Content!);
        string reason = (string?)answer["outcome"] ?? "";
        Assert.That(content.StatusCode, Is.Not.EqualTo(500).And.Not.Null, context);
        Assert.That(ReliabilityScale.DocumentedReasons, Does.Contain(reason), context);
        if (content.StatusCode != 200)
        {
            Assert.That((string?)answer["detail"], Is.Not.Null.And.Not.Empty, $"{context}: a rejection says why");
        }

        return $"{content.StatusCode} {reason}";
    }

    [Test]
    public async Task Events_webhook_answers_generated_bodies_with_documented_outcomes()
    {
        int cases = ReliabilityScale.Of(1_000);
        const int seed = 2101;
        using var app = new AppServices(await Azurite.SharedConnectionStringAsync(), Now);
        var webhook = app.Function<EventsWebhook>();
        var outcomes = new Dictionary<string, int>();
        for (int batch = 0; batch < cases / 100; batch++)
        {
            var bodies = HostileInput.Sample(HostileInput.EventsWebhookBody(Now, TestSettings.SigningKey), seed + batch, 100);
            for (int i = 0; i < bodies.Length; i++)
            {
                string context = $"seed {seed + batch}, case {i}";
                var result = await Run(() => webhook.RunAsync(AppServices.Post(bodies[i]), CancellationToken.None), context, bodies[i]);
                Count(outcomes, Outcome(result, context));
            }
        }

        TestContext.Out.WriteLine($"{cases} generated events webhook bodies: " + string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")));
        Assert.That(outcomes.Keys, Is.SupersetOf(new[] { "200 accepted", "400 malformed_json", "406 event_invalid", "401 signature_invalid" }));
    }

    [Test]
    public async Task Inbound_webhook_answers_generated_posts_with_documented_outcomes()
    {
        int cases = ReliabilityScale.Of(1_000);
        const int seed = 2201;
        using var app = new AppServices(await Azurite.SharedConnectionStringAsync(), Now, new Dictionary<string, string?> { ["Inbound:MaxRequestBytes"] = "1048576" });
        var webhook = app.Function<InboundWebhook>();
        var outcomes = new Dictionary<string, int>();
        for (int batch = 0; batch < cases / 50; batch++)
        {
            var posts = HostileInput.Sample(HostileInput.InboundPostBody("reply@fuzz.example.com", Now, TestSettings.SigningKey), seed + batch, 50);
            for (int i = 0; i < posts.Length; i++)
            {
                string context = $"seed {seed + batch}, case {i}, {posts[i].ContentType}, {posts[i].Body.Length} bytes";
                var result = await Run(() => webhook.RunAsync(AppServices.Post(posts[i].Body, posts[i].ContentType), CancellationToken.None), context,
                    Encoding.UTF8.GetString(posts[i].Body));
                Count(outcomes, Outcome(result, context));
            }
        }

        TestContext.Out.WriteLine($"{cases} generated inbound posts: " + string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")));
        Assert.That(outcomes.Keys, Is.SupersetOf(new[] { "200 accepted", "401 signature_invalid" }));
    }

    /// <summary>
    /// The inbound queue function's own code on generated payloads (stored as the webhook stores them) and on generated queue
    /// messages that are no envelope of ours: each ends stored as a reply, or parked with a reason.
    /// </summary>
    [Test]
    public async Task Inbound_processing_stores_or_parks_every_generated_payload_and_message()
    {
        int cases = ReliabilityScale.Of(300);
        const int seed = 2301;
        string storage = await Azurite.SharedConnectionStringAsync();
        using var app = new AppServices(storage, Now);
        var processor = app.Get<InboundProcessor>();
        var raw = new BlobContainerClient(storage, StorageNames.InboundRawContainer);
        await raw.CreateIfNotExistsAsync();
        var outcomes = new Dictionary<string, int>();
        string tenant = $"f{Guid.NewGuid():N}"[..12] + ".example.com";
        for (int batch = 0; batch < cases / 50; batch++)
        {
            var posts = HostileInput.Sample(HostileInput.InboundPostBody("reply@" + tenant, Now, TestSettings.SigningKey), seed + batch, 50);
            for (int i = 0; i < posts.Length; i++)
            {
                string sha = Convert.ToHexStringLower(SHA256.HashData(posts[i].Body));
                var envelope = new InboundEnvelope
                {
                    ReceivedAt = Now, SignedAt = Now, Token = SignedWebhook.NewToken(), SigningKeyId = "primary", BodySha256 = sha,
                    ContentType = posts[i].ContentType, PayloadBlob = InboundQueue.PayloadBlobName(Now, sha), Recipient = "reply@" + tenant,
                };
                await raw.GetBlobClient(envelope.PayloadBlob).UploadAsync(new BinaryData(posts[i].Body), overwrite: true);
                string context = $"seed {seed + batch}, case {i}, {posts[i].ContentType}, {posts[i].Body.Length} bytes";
                var reply = await Run(() => processor.ProcessAsync("fuzz", InboundEnvelope.Serialize(envelope), CancellationToken.None), context, Encoding.UTF8.GetString(posts[i].Body));
                Count(outcomes, reply is null ? "parked" : "stored " + reply.Kind + (reply.UnsubscribeState is { } state ? " unsubscribe " + state : ""));
            }
        }

        // Queue messages that are no envelope of ours (a queue message is input too).
        var messages = HostileInput.Sample(HostileInput.EventEnvelopeText, seed, ReliabilityScale.Of(100));
        for (int i = 0; i < messages.Length; i++)
        {
            var reply = await Run(() => processor.ProcessAsync("fuzz", messages[i], CancellationToken.None), $"seed {seed}, message {i}", messages[i]);
            Count(outcomes, reply is null ? "parked" : "stored");
        }

        TestContext.Out.WriteLine($"{cases} generated inbound payloads and {messages.Length} foreign queue messages: " + string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")));
        Assert.That(outcomes.Keys, Does.Contain("parked").And.Contain("stored Human"));
    }

    /// <summary>The platform's unsubscribe link with generated tokens (valid ones carrying hostile contents, altered ones, noise) and form bodies.</summary>
    [Test]
    public async Task Unsubscribe_link_answers_generated_tokens_and_forms_with_a_page_never_an_exception()
    {
        int cases = ReliabilityScale.Of(2_000);
        const int seed = 2401;
        using var app = new AppServices(await Azurite.SharedConnectionStringAsync(), Now, new Dictionary<string, string?>
        {
            ["Unsubscribe:Keys:k1"] = "fuzz-link-key-0123456789abcdefghijklmnopqrstuvwxyz",
            ["Unsubscribe:ActiveKeyId"] = "k1",
            ["Unsubscribe:BaseUrl"] = "https://app.example.net/api/unsubscribe",
        });
        var links = app.Function<UnsubscribeLinkFunctions>();
        var codec = app.Get<UnsubscribeTokenCodec>();
        var tokens = Gen.Frequency(
            (5, Gen.Zip(Gen.Zip(HostileInput.LinkPart, HostileInput.LinkPart), Gen.Zip(HostileInput.LinkPart, HostileInput.LinkPart))
                .Select(p => codec.Create(new UnsubscribeRequest(p.Item1.Item1, p.Item1.Item2, p.Item2.Item1, p.Item2.Item2, Now)))),
            (2, HostileInput.PlainText),
            (2, Gen.Zip(HostileInput.LinkPart, Gen.Choose(0, 200)).Select(p =>
            {
                // A valid token with one character changed.
                string token = codec.Create(new UnsubscribeRequest("mg.example.com", p.Item1, null, null, Now));
                int at = p.Item2 % token.Length;
                return token[..at] + (token[at] == 'A' ? 'B' : 'A') + token[(at + 1)..];
            })));
        var requests = Gen.Zip(Gen.Zip(tokens, HostileInput.UnsubscribeForm), Gen.Choose(0, 2));
        var outcomes = new Dictionary<string, int>();
        for (int batch = 0; batch < cases / 100; batch++)
        {
            var samples = HostileInput.Sample(requests, seed + batch, 100);
            for (int i = 0; i < samples.Length; i++)
            {
                var ((token, form), action) = samples[i];
                string context = $"seed {seed + batch}, case {i}, action {action}";
                var request = AppServices.Post(Encoding.UTF8.GetBytes(form), "application/x-www-form-urlencoded");
                request.Path = new PathString("/api/unsubscribe/" + Uri.EscapeDataString(token) + (action == 2 ? "/undo" : ""));
                var result = (ContentResult)await Run(() => action switch
                {
                    0 => links.ShowAsync(request, token, CancellationToken.None),
                    1 => links.PostAsync(request, token, CancellationToken.None),
                    _ => links.UndoAsync(request, token, CancellationToken.None),
                }, context, token + " | " + form);
                Assert.That(result.StatusCode, Is.AnyOf(200, 400, 404), context);
                Assert.That(result.StatusCode == 200 || result.Content!.Contains("<h1", StringComparison.Ordinal), Is.True, $"{context}: a refusal is a page that says why");
                Count(outcomes, $"{new[] { "GET", "POST", "undo" }[action]} {result.StatusCode}");
            }
        }

        TestContext.Out.WriteLine($"{cases} generated unsubscribe requests: " + string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")));
        Assert.That(outcomes.Keys, Is.SupersetOf(new[] { "GET 200", "GET 400", "POST 200", "POST 400", "undo 200", "undo 400" }));
    }
}
