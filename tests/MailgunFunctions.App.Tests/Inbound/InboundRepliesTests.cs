using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using MailgunFunctions.App;
using MailgunFunctions.Inbound;
using MailgunFunctions.Ingestion;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using MailgunFunctions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Inbound;

/// <summary>Inbound replies end to end through both function classes, against real storage (Azurite).</summary>
public class InboundRepliesTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 3, 10, 16, 0, TimeSpan.Zero);
    private string _storage = "";
    private string _tenant = "";
    private QueueClient _queue = null!;
    private QueueClient _poison = null!;

    [SetUp]
    public async Task SetUp()
    {
        _storage = await Azurite.SharedConnectionStringAsync();
        // Each test gets its own tenant, so table rows of other tests are never seen; the queues are emptied.
        _tenant = TestTenants.NewId("t");
        var encoding = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        _queue = new QueueClient(_storage, StorageNames.InboundQueue, encoding);
        _poison = new QueueClient(_storage, StorageNames.InboundPoisonQueue, encoding);
        foreach (var queue in new[] { _queue, _poison })
        {
            await queue.CreateIfNotExistsAsync();
            await queue.ClearMessagesAsync();
        }
    }

    private string Domain => _tenant + ".example.com";

    private string Recipient => "reply@" + Domain;

    private static HttpRequest Post((byte[] Body, string ContentType) post, bool sendContentLength = true) =>
        AppServices.Post(post.Body, post.ContentType, sendContentLength);

    /// <summary>Posts to the test tenant's own inbound URL (registering the tenant first).</summary>
    private async Task<(int Status, JObject Body)> Send(AppServices app, HttpRequest request)
    {
        await app.RegisterTenantAsync(_tenant, Domain);
        var result = (ContentResult)await app.Function<InboundWebhook>().RunForTenantAsync(request, _tenant, CancellationToken.None);
        return (result.StatusCode!.Value, JObject.Parse(result.Content!));
    }

    /// <summary>Feeds every queued message to the queue function, as the host would (the host base64-decodes the text).</summary>
    private static async Task<int> ProcessQueue(AppServices app, QueueClient queue, int times = 1)
    {
        int count = 0;
        var messages = (await queue.ReceiveMessagesAsync(32)).Value;
        foreach (var m in messages)
        {
            for (int i = 0; i < times; i++)
            {
                var delivered = QueuesModelFactory.QueueMessage(m.MessageId, m.PopReceipt, m.Body, m.DequeueCount + i);
                await app.Function<InboundReplyQueue>().RunAsync(delivered, CancellationToken.None);
            }

            await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
            count++;
        }

        return count;
    }

    private async Task<List<TableEntity>> Replies(AppServices app) =>
        await app.Get<ReplyStore>().ListAsync(_tenant, CancellationToken.None).ToListAsync();

    private async Task<List<TableEntity>> ContactReplies(AppServices app, string contactId) =>
        await app.Get<ReplyStore>().ListForContactAsync(_tenant, contactId, CancellationToken.None).ToListAsync();

    private static RecordingReplyDndActions Dnd(AppServices app) => (RecordingReplyDndActions)app.Get<IReplyDndActions>();

    private static KnownOutboundMessages Sent(AppServices app) => (KnownOutboundMessages)app.Get<IOutboundMessageLookup>();

    [Test]
    public async Task Plain_reply_is_stored_raw_queued_base64_and_recorded_for_tenant_and_contact()
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        Sent(app).Add(_tenant, new OutboundMessage(InboundMessages.OutboundId, "contact-42", "jane@example.org", Now.AddHours(-1)));
        var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.ParsedReply(recipient: Recipient), Now));

        var (status, answer) = await Send(app, Post(post));
        Assert.That((status, (string?)answer["outcome"]), Is.EqualTo((200, "accepted")), answer.ToString());

        var raw = (await new QueueClient(_storage, StorageNames.InboundQueue).PeekMessagesAsync(1)).Value.Single();
        var envelope = InboundEnvelope.Deserialize(System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(raw.Body.ToString())));
        var blob = new BlobContainerClient(_storage, StorageNames.InboundRawContainer).GetBlobClient(envelope.PayloadBlob);
        var stored = await blob.DownloadContentAsync();
        Assert.Multiple(() =>
        {
            Assert.That(stored.Value.Content.ToArray(), Is.EqualTo(post.Body), "the original payload, byte for byte");
            Assert.That(stored.Value.Details.ContentType, Is.EqualTo(post.ContentType));
            Assert.That(envelope.PayloadBlob, Does.StartWith("2026/03/03/"));
        });

        Assert.That(await ProcessQueue(app, _queue), Is.EqualTo(1));
        var row = (await Replies(app)).Single();
        Assert.Multiple(() =>
        {
            Assert.That(row.GetString("Kind"), Is.EqualTo("Human"));
            Assert.That(row.GetString("From"), Is.EqualTo("jane@example.org"));
            Assert.That(row.GetString("Subject"), Is.EqualTo("Re: Our spring offers"));
            Assert.That(row.GetString("Text"), Is.EqualTo("Thanks, that works for me."));
            Assert.That(row.GetBoolean("Threaded"), Is.True);
            Assert.That(row.GetString("ContactId"), Is.EqualTo("contact-42"));
            Assert.That(row.GetString("OutboundMessageId"), Is.EqualTo(InboundMessages.OutboundId));
            Assert.That(row.GetString("RawBlob"), Is.EqualTo(envelope.PayloadBlob));
        });
        Assert.That((await ContactReplies(app, "contact-42")).Single().GetString("ReplyId"), Is.EqualTo(row.GetString("ReplyId")));
        Assert.That(Dnd(app).Unsubscribes, Is.Empty);
    }

    [Test]
    public async Task Reply_matching_no_outbound_message_is_kept_unthreaded()
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.ParsedReply(recipient: Recipient, inReplyTo: "<unknown@elsewhere.example>"), Now));
        Assert.That((await Send(app, Post(post))).Status, Is.EqualTo(200));
        await ProcessQueue(app, _queue);

        var row = (await Replies(app)).Single();
        Assert.That((row.GetBoolean("Threaded"), row.GetString("ContactId")), Is.EqualTo(((bool?)false, (string?)null)));
    }

    [Test]
    public async Task Html_only_reply_is_recorded_with_its_own_words()
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        var fields = InboundPost.ParsedReply(recipient: Recipient, bodyPlain: "", strippedText: null);
        fields.Add(new("body-html", "<p>Two boxes, please.</p><blockquote type=\"cite\">Our spring offers</blockquote>"));
        Assert.That((await Send(app, Post(InboundPost.UrlEncoded(InboundPost.Signed(fields, Now))))).Status, Is.EqualTo(200));
        await ProcessQueue(app, _queue);
        var row = (await Replies(app)).Single();
        Assert.That((row.GetString("Text"), row.GetString("TextSource")), Is.EqualTo(("Two boxes, please.", "html")));
    }

    [Test]
    public async Task Multipart_reply_with_attachments_records_names_and_sizes()
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        var fields = InboundPost.ParsedReply(recipient: Recipient, strippedText: "Signed contract attached.");
        fields.Add(new("attachment-count", "2"));
        var post = InboundPost.Multipart(InboundPost.Signed(fields, Now),
        [
            new InboundFile("attachment-1", "contract.pdf", "application/pdf", new byte[2 * 1024 * 1024]),
            new InboundFile("attachment-2", "logo.png", "image/png", new byte[512]),
        ]);
        Assert.That((await Send(app, Post(post))).Status, Is.EqualTo(200));
        await ProcessQueue(app, _queue);

        var row = (await Replies(app)).Single();
        Assert.That(row.GetInt32("AttachmentCount"), Is.EqualTo(2));
        Assert.That(JArray.Parse(row.GetString("Attachments")).ToString(Newtonsoft.Json.Formatting.None),
            Is.EqualTo("[{\"name\":\"contract.pdf\",\"size\":2097152},{\"name\":\"logo.png\",\"size\":512}]"));
    }

    [Test]
    public async Task Raw_mime_route_is_parsed_from_body_mime()
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.RawMime(InboundMessages.PlainReply("Ja, bitte schicken Sie mir den Katalog."), Recipient), Now));
        Assert.That((await Send(app, Post(post))).Status, Is.EqualTo(200));
        await ProcessQueue(app, _queue);
        var row = (await Replies(app)).Single();
        Assert.Multiple(() =>
        {
            Assert.That(row.GetString("Format"), Is.EqualTo("mime"));
            Assert.That(row.GetString("Text"), Is.EqualTo("Ja, bitte schicken Sie mir den Katalog."));
            Assert.That(row.GetString("MessageId"), Is.EqualTo("CAF1x2y3@mail.example.org"));
        });
    }

    [Test]
    public async Task Out_of_office_is_recorded_as_an_auto_reply_without_acting()
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        var mime = InboundMessages.OutOfOffice("Automatische Antwort: Unsere Angebote", "Ich bin bis 10. März nicht im Büro. Bitte abmelden.");
        Assert.That((await Send(app, Post(InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.RawMime(mime, Recipient), Now))))).Status, Is.EqualTo(200));
        await ProcessQueue(app, _queue);
        var row = (await Replies(app)).Single();
        Assert.That(row.GetString("Kind"), Is.EqualTo("AutoReply"));
        Assert.That(Dnd(app).Unsubscribes, Is.Empty);
    }

    [Test]
    public async Task Dsn_reporting_a_permanent_failure_feeds_a_hard_bounce()
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        Sent(app).Add(_tenant, new OutboundMessage(InboundMessages.OutboundId, "contact-gone", "gone@example.net", Now.AddMinutes(-15)));
        var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.RawMime(InboundMessages.Dsn("gone@example.net"), Recipient, from: "MAILER-DAEMON@mx1.example.net"), Now));
        Assert.That((await Send(app, Post(post))).Status, Is.EqualTo(200));
        await ProcessQueue(app, _queue);

        var row = (await Replies(app)).Single();
        var bounce = Dnd(app).HardBounces.Single();
        Assert.Multiple(() =>
        {
            Assert.That(row.GetString("Kind"), Is.EqualTo("Bounce"));
            Assert.That(row.GetString("ContactId"), Is.EqualTo("contact-gone"), "threaded through the returned headers");
            Assert.That((bounce.Tenant, bounce.Address, bounce.Status), Is.EqualTo((_tenant, "gone@example.net", "5.1.1")));
            Assert.That(bounce.Diagnostic, Does.Contain("User unknown"));
            Assert.That(bounce.SourceId, Is.EqualTo("mailgun-inbound:" + row.GetString("ReplyId")));
            Assert.That(bounce.At, Is.EqualTo(Now));
        });
    }

    [Test]
    public async Task Dsn_reporting_a_delay_feeds_nothing()
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.RawMime(InboundMessages.Dsn("slow@example.net", "delayed", "4.4.1"), Recipient), Now));
        Assert.That((await Send(app, Post(post))).Status, Is.EqualTo(200));
        await ProcessQueue(app, _queue);
        Assert.That((await Replies(app)).Single().GetString("Kind"), Is.EqualTo("Bounce"));
        Assert.That(Dnd(app).HardBounces, Is.Empty);
    }

    [TestCase("Please remove me from your mailing list.")]
    [TestCase("Por favor, darme de baja.")]
    [TestCase("Merci de me désinscrire de cette liste.")]
    [TestCase("Bitte tragen Sie mich aus dem Verteiler aus.")]
    [TestCase("Por favor, cancelar inscrição.")]
    public async Task Unsubscribe_reply_sets_an_unsubscribe_dnd_quoting_the_line(string line)
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        Sent(app).Add(_tenant, new OutboundMessage(InboundMessages.OutboundId, "contact-42", "jane@example.org", Now.AddHours(-1)));
        var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.ParsedReply(recipient: Recipient, strippedText: line + "\n\nJane"), Now));
        Assert.That((await Send(app, Post(post))).Status, Is.EqualTo(200));
        await ProcessQueue(app, _queue);

        var unsubscribe = Dnd(app).Unsubscribes.Single();
        Assert.That((unsubscribe.Tenant, unsubscribe.Address, unsubscribe.QuotedLine), Is.EqualTo((_tenant, "jane@example.org", line)));
        Assert.That((await Replies(app)).Single().GetString("Unsubscribe"), Is.EqualTo(line));
    }

    [Test]
    public async Task Ordinary_reply_with_stop_in_a_sentence_sets_nothing()
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.ParsedReply(recipient: Recipient, strippedText: "Don't stop sending me offers!"), Now));
        Assert.That((await Send(app, Post(post))).Status, Is.EqualTo(200));
        await ProcessQueue(app, _queue);
        Assert.That(Dnd(app).Unsubscribes, Is.Empty);
        Assert.That((await Replies(app)).Single().GetString("Unsubscribe"), Is.Null);
    }

    [Test]
    public async Task Spam_flagged_unsubscribe_is_recorded_but_sets_nothing()
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        var fields = InboundPost.ParsedReply(recipient: Recipient, strippedText: "Unsubscribe", extraHeaders: [("X-Mailgun-Sflag", "Yes"), ("X-Mailgun-Sscore", "15.2")]);
        Assert.That((await Send(app, Post(InboundPost.UrlEncoded(InboundPost.Signed(fields, Now))))).Status, Is.EqualTo(200));
        await ProcessQueue(app, _queue);
        var row = (await Replies(app)).Single();
        Assert.That((row.GetBoolean("IsSpam"), row.GetDouble("SpamScore"), row.GetString("Unsubscribe")), Is.EqualTo(((bool?)true, (double?)15.2, "Unsubscribe")));
        Assert.That(Dnd(app).Unsubscribes, Is.Empty);
    }

    [Test]
    public async Task Same_post_delivered_twice_and_processed_twice_gives_one_reply()
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        Sent(app).Add(_tenant, new OutboundMessage(InboundMessages.OutboundId, "c-7", "jane@example.org", Now.AddDays(-1)));
        var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.ParsedReply(recipient: Recipient), Now));

        Assert.That((await Send(app, Post(post))).Status, Is.EqualTo(200));
        app.Time.Advance(TimeSpan.FromMinutes(10)); // Mailgun's retry, with the original signature
        var retry = await Send(app, Post(post));
        Assert.That((retry.Status, (string?)retry.Body["outcome"]), Is.EqualTo((200, "duplicate")));

        // At-least-once delivery: the one queue message is handed over twice.
        Assert.That(await ProcessQueue(app, _queue, times: 2), Is.EqualTo(1));
        Assert.That(await Replies(app), Has.Count.EqualTo(1));
        Assert.That(await ContactReplies(app, "c-7"), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Post_queued_twice_because_the_token_was_never_marked_queued_gives_one_reply()
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        string token = SignedWebhook.NewToken();
        var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.ParsedReply(recipient: Recipient), Now, token));
        Assert.That((await Send(app, Post(post))).Status, Is.EqualTo(200));

        // As if marking the token queued had failed after the envelope was sent: the retry queues a second envelope.
        var tokens = new TableClient(_storage, ReplayGuard.TableFor(Now));
        string key = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));
        await tokens.UpdateEntityAsync(new TableEntity(key, "") { ["State"] = "reserved" }, Azure.ETag.All, TableUpdateMode.Merge);
        app.Time.Advance(TimeSpan.FromHours(2));
        var retry = await Send(app, Post(post));
        Assert.That((retry.Status, (string?)retry.Body["outcome"]), Is.EqualTo((200, "accepted")));

        Assert.That(await ProcessQueue(app, _queue), Is.EqualTo(2));
        var row = (await Replies(app)).Single();
        Assert.That(row.GetDateTimeOffset("ReceivedAt"), Is.EqualTo(Now), "keyed by Mailgun's signature time, not by when we received it");
    }

    [Test]
    public async Task Replies_list_newest_first_and_odd_contact_ids_are_safe_keys()
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        const string contact = "crm/42#a?b\\c|d%";
        Sent(app).Add(_tenant, new OutboundMessage(InboundMessages.OutboundId, contact, "jane@example.org", Now.AddDays(-1)));
        foreach (var (minutesAgo, text) in new[] { (30, "older"), (5, "newer") })
        {
            var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.ParsedReply(recipient: Recipient, strippedText: text), Now.AddMinutes(-minutesAgo)));
            Assert.That((await Send(app, Post(post))).Status, Is.EqualTo(200));
        }

        await ProcessQueue(app, _queue);
        Assert.That((await Replies(app)).Select(r => r.GetString("Text")), Is.EqualTo(new[] { "newer", "older" }));
        Assert.That((await ContactReplies(app, contact)).Select(r => r.GetString("Text")), Is.EqualTo(new[] { "newer", "older" }));
    }

    [Test]
    public async Task Message_that_is_not_an_envelope_goes_to_poison_at_once_with_a_reason()
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        await _queue.SendMessageAsync("{\"hello\":");
        await ProcessQueue(app, _queue);
        var parked = (await _poison.ReceiveMessagesAsync(1)).Value.Single();
        var body = JObject.Parse(parked.Body.ToString());
        Assert.That((string?)body["reason"], Is.EqualTo("envelope_unreadable"));
        Assert.That((string?)body["message"], Is.EqualTo("{\"hello\":"));
    }

    [Test]
    public async Task Envelope_whose_payload_is_gone_goes_to_poison()
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        var envelope = new InboundEnvelope
        {
            ReceivedAt = Now, SignedAt = Now, Token = "t", SigningKeyId = "primary", BodySha256 = new string('d', 64),
            ContentType = "application/x-www-form-urlencoded", PayloadBlob = "2026/03/03/" + new string('d', 64), Recipient = Recipient,
        };
        await new BlobContainerClient(_storage, StorageNames.InboundRawContainer).CreateIfNotExistsAsync();
        await _queue.SendMessageAsync(InboundEnvelope.Serialize(envelope));
        await ProcessQueue(app, _queue);
        var parked = (await _poison.ReceiveMessagesAsync(1)).Value.Single();
        Assert.That((string?)JObject.Parse(parked.Body.ToString())["reason"], Is.EqualTo("payload_missing"));
        Assert.That(await Replies(app), Is.Empty);
    }

    [Test]
    public async Task Oversized_post_is_413_and_the_server_body_limit_is_raised_to_ours()
    {
        using var app = new AppServices(_storage, Now, new Dictionary<string, string?> { ["Inbound:MaxRequestBytes"] = "200000" }, recordReplySeams: true);
        var fields = InboundPost.ParsedReply(recipient: Recipient);
        fields.Add(new("body-html", new string('x', 300_000)));
        var request = Post(InboundPost.UrlEncoded(InboundPost.Signed(fields, Now)));
        var limit = new BodySizeFeature();
        request.HttpContext.Features.Set<IHttpMaxRequestBodySizeFeature>(limit);

        var (status, answer) = await Send(app, request);
        Assert.That((status, (string?)answer["outcome"]), Is.EqualTo((413, "body_too_large")));
        Assert.That(limit.MaxRequestBodySize, Is.EqualTo(200_001));
        Assert.That((await _queue.PeekMessagesAsync(1)).Value, Is.Empty);
    }

    [Test]
    public async Task Forged_signature_is_401_and_nothing_is_stored()
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.ParsedReply(recipient: Recipient, strippedText: "Unsubscribe"), Now, key: "forger"));
        var (status, answer) = await Send(app, Post(post));
        Assert.That((status, (string?)answer["outcome"]), Is.EqualTo((401, "signature_invalid")));
        Assert.That((await _queue.PeekMessagesAsync(1)).Value, Is.Empty);
    }

    [Test]
    public async Task Storage_down_gives_503_and_the_retry_is_stored_once_when_it_is_back()
    {
        await using var storage = await Azurite.StartDedicatedAsync(persistent: true);
        using var app = new AppServices(storage.ConnectionString, Now, recordReplySeams: true);
        string tenant = _tenant;
        var warmUp = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.ParsedReply(recipient: "warm@" + Domain), Now));
        var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.ParsedReply(recipient: Recipient, strippedText: "Kept safe"), Now));

        Assert.That((await Send(app, Post(warmUp))).Status, Is.EqualTo(200));
        storage.Stop();
        var (status, answer) = await Send(app, Post(post));
        Assert.That((status, (string?)answer["outcome"]), Is.EqualTo((503, "storage_unavailable")));

        await storage.RestartAsync();
        var retried = await Send(app, Post(post));
        Assert.That(retried.Status, Is.EqualTo(200), retried.Body + string.Join("\n", app.Logs.Entries.Select(e => e.Text)));
        Assert.That((await Send(app, Post(post))).Status, Is.EqualTo(200));

        var queue = new QueueClient(storage.ConnectionString, StorageNames.InboundQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        Assert.That(await ProcessQueue(app, queue), Is.EqualTo(2));
        var rows = await app.Get<ReplyStore>().ListAsync(tenant, CancellationToken.None).ToListAsync();
        Assert.That(rows.Select(r => r.GetString("Text")).OrderBy(t => t), Is.EqualTo(new[] { "Kept safe", "Thanks, that works for me." }));
    }

    [Test]
    public async Task Storage_unreachable_from_the_start_gives_503_not_500()
    {
        using var app = new AppServices(Azurite.Unreachable(), Now, recordReplySeams: true);
        var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.ParsedReply(recipient: Recipient), Now));
        // The single-account URL (its tenant comes from settings), and a tenant's URL (its tenant cannot even be read).
        foreach (var result in new[]
        {
            (ContentResult)await app.Function<InboundWebhook>().RunAsync(Post(post), CancellationToken.None),
            (ContentResult)await app.Function<InboundWebhook>().RunForTenantAsync(Post(post), _tenant, CancellationToken.None),
        })
        {
            Assert.That((result.StatusCode, (string?)JObject.Parse(result.Content!)["outcome"]), Is.EqualTo(((int?)503, "storage_unavailable")));
        }
    }

    [Test]
    public async Task Logs_never_contain_the_reply_text_or_a_key()
    {
        using var app = new AppServices(_storage, Now, recordReplySeams: true);
        var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.ParsedReply(recipient: Recipient, strippedText: "SECRET-REPLY-7f2a"), Now));
        await Send(app, Post(post));
        await Send(app, Post(InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.ParsedReply(recipient: Recipient), Now, key: "wrong"))));
        await ProcessQueue(app, _queue);
        string all = string.Join("\n", app.Logs.Entries.Select(e => e.Text));
        Assert.That(app.Logs.Entries, Is.Not.Empty);
        Assert.That(all, Does.Not.Contain("SECRET-REPLY-7f2a"));
        Assert.That(all, Does.Not.Contain(TestSettings.SigningKey));
    }

    private sealed class BodySizeFeature : IHttpMaxRequestBodySizeFeature
    {
        public bool IsReadOnly => false;
        public long? MaxRequestBodySize { get; set; } = 30_000_000;
    }
}
