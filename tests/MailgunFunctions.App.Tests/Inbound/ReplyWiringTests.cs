using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using MailgunFunctions.App;
using MailgunFunctions.Dnd;
using MailgunFunctions.Inbound;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Tests.Inbound;

/// <summary>
/// Replies with the app's real wiring (no doubles): the events pipeline records the message it delivered, the reply
/// threads to it and its contact, and what the reply asks for lands in the real DND table with source inbound-reply.
/// </summary>
public class ReplyWiringTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 3, 10, 16, 0, TimeSpan.Zero);
    private string _storage = "";
    private string _tenant = "";
    private QueueClient _events = null!;
    private QueueClient _inbound = null!;

    [SetUp]
    public async Task SetUp()
    {
        _storage = await Azurite.SharedConnectionStringAsync();
        _tenant = TestTenants.NewId("w");
        var encoding = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        _events = new QueueClient(_storage, StorageNames.EventsQueue, encoding);
        _inbound = new QueueClient(_storage, StorageNames.InboundQueue, encoding);
        foreach (var queue in new[] { _events, _inbound })
        {
            await queue.CreateIfNotExistsAsync();
            await queue.ClearMessagesAsync();
        }
    }

    private string Domain => _tenant + ".example.com";

    private static async Task Drain(QueueClient queue, Func<QueueMessage, Task> run)
    {
        foreach (var m in (await queue.ReceiveMessagesAsync(32)).Value)
        {
            await run(QueuesModelFactory.QueueMessage(m.MessageId, m.PopReceipt, m.Body, m.DequeueCount));
            await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
        }
    }

    private async Task Deliver(AppServices app, string recipient = "jane@example.org", string contactId = "contact-77")
    {
        // The message the reply answers, as Mailgun reports its delivery (message-id without angle brackets).
        var delivered = SignedWebhook.Simple("delivered", recipient, Now.AddHours(-1), domain: Domain);
        delivered["message"]!["headers"]!["message-id"] = InboundMessages.OutboundId;
        delivered["user-variables"] = new JObject { ["contactId"] = contactId };
        var request = AppServices.Post(SignedWebhook.Body(delivered, Now));
        await app.RegisterTenantAsync(_tenant, Domain);
        await app.Function<EventsWebhook>().RunForTenantAsync(request, _tenant, CancellationToken.None);
        await Drain(_events, m => app.Function<EventProcessorFunction>().RunAsync(m, CancellationToken.None));
    }

    private Task Reply(AppServices app, List<KeyValuePair<string, string>> fields) => Reply(app, InboundPost.UrlEncoded(InboundPost.Signed(fields, Now)));

    private async Task Reply(AppServices app, (byte[] Body, string ContentType) post)
    {
        await app.RegisterTenantAsync(_tenant, Domain);
        await app.Function<InboundWebhook>().RunForTenantAsync(AppServices.Post(post.Body, post.ContentType), _tenant, CancellationToken.None);
        await Drain(_inbound, m => app.Function<InboundReplyQueue>().RunAsync(m, CancellationToken.None));
    }

    [Test]
    public async Task A_reply_threads_to_the_delivered_message_and_its_contact()
    {
        using var app = new AppServices(_storage, Now);
        await Deliver(app);
        await Reply(app, InboundPost.ParsedReply(recipient: "reply@" + Domain, inReplyTo: $"<{InboundMessages.OutboundId}>"));

        var row = await app.Get<ReplyStore>().ListAsync(_tenant, CancellationToken.None).SingleAsync();
        Assert.That((row.GetBoolean("Threaded"), row.GetString("ContactId")), Is.EqualTo(((bool?)true, "contact-77")));
    }

    /// <summary>
    /// A batch send gives every recipient the same Message-Id: the record of sent messages must keep one row per recipient,
    /// or the last delivery processed decides whose contact a reply gets and whose address a bounce report may bounce.
    /// </summary>
    [Test]
    public async Task Replies_and_bounce_reports_of_a_batch_sharing_one_message_id_reach_their_own_recipient()
    {
        using var app = new AppServices(_storage, Now);
        await Deliver(app, "alice@example.org", "contact-alice");
        await Deliver(app, "bob@example.org", "contact-bob");

        await Reply(app, InboundPost.ParsedReply(from: "Alice <alice@example.org>", recipient: "reply@" + Domain, inReplyTo: $"<{InboundMessages.OutboundId}>"));
        await Reply(app, InboundPost.RawMime(InboundMessages.Dsn("alice@example.org"), "reply@" + Domain, from: "MAILER-DAEMON@mx1.example.net"));

        var replies = await app.Get<ReplyStore>().ListAsync(_tenant, CancellationToken.None).ToListAsync();
        var store = app.Get<DndStore>();
        Assert.Multiple(async () =>
        {
            Assert.That(replies.Single(r => r.GetString("Kind") == "Human").GetString("ContactId"), Is.EqualTo("contact-alice"));
            Assert.That(replies.Single(r => r.GetString("Kind") == "Bounce").GetString("ContactId"), Is.EqualTo("contact-alice"));
            Assert.That((await store.GetStatusAsync(_tenant, "alice@example.org", CancellationToken.None)).Status.State, Is.EqualTo(DndState.Permanent));
            Assert.That((await store.GetStatusAsync(_tenant, "bob@example.org", CancellationToken.None)).Status.State, Is.EqualTo(DndState.None));
        });
    }

    /// <summary>Rows written before the recipient was part of the key (one row per Message-Id) still thread their own recipient.</summary>
    [Test]
    public async Task A_sent_message_row_of_the_old_layout_still_threads_its_recipient_and_no_other()
    {
        using var app = new AppServices(_storage, Now);
        var table = new Azure.Data.Tables.TableClient(_storage, StorageNames.SentMessagesTable);
        await table.CreateIfNotExistsAsync();
        await table.UpsertEntityAsync(new Azure.Data.Tables.TableEntity(DndKeys.TenantKey(_tenant), DndKeys.Encode(InboundMessages.OutboundId))
        {
            ["MessageId"] = InboundMessages.OutboundId, ["Recipient"] = "gone@example.net", ["ContactId"] = "contact-old", ["SentAt"] = Now.AddDays(-3),
        });

        await Reply(app, InboundPost.RawMime(InboundMessages.Dsn("victim@example.net"), "reply@" + Domain, from: "MAILER-DAEMON@mx1.example.net"));
        await Reply(app, InboundPost.RawMime(InboundMessages.Dsn("gone@example.net"), "reply@" + Domain, from: "MAILER-DAEMON@mx2.example.net"));

        var store = app.Get<DndStore>();
        Assert.That((await store.GetStatusAsync(_tenant, "gone@example.net", CancellationToken.None)).Status.State, Is.EqualTo(DndState.Permanent));
        Assert.That((await store.GetStatusAsync(_tenant, "victim@example.net", CancellationToken.None)).Status.State, Is.EqualTo(DndState.None));
    }

    [Test]
    public async Task An_unsubscribe_reply_puts_the_address_in_dnd_once_with_the_quoted_line()
    {
        using var app = new AppServices(_storage, Now);
        await Deliver(app); // the reply answers a message we sent to jane: that shows it comes from her
        var post = InboundPost.UrlEncoded(InboundPost.Signed(InboundPost.ParsedReply(recipient: "reply@" + Domain, strippedText: "Please unsubscribe me.\n\nJane"), Now));
        await Reply(app, post);
        // Mailgun retries the same post: one reply, one DND change.
        await Reply(app, post);

        var store = app.Get<DndStore>();
        var (_, status) = await store.GetStatusAsync(_tenant, "jane@example.org", CancellationToken.None);
        var history = await store.HistoryAsync(_tenant, "jane@example.org", CancellationToken.None).ToListAsync();
        Assert.That(status.State, Is.EqualTo(DndState.Permanent));
        Assert.That(history, Has.Count.EqualTo(1));
        Assert.That((history[0].Source, history[0].Category, history[0].Message), Is.EqualTo((DndChangeSource.InboundReply, "unsubscribe", "Please unsubscribe me.")));
    }

    private async Task<(DndState State, TableEntity Row)> UnsubscribeOutcome(AppServices app, string address)
    {
        var (_, status) = await app.Get<DndStore>().GetStatusAsync(_tenant, address, CancellationToken.None);
        var row = await app.Get<ReplyStore>().ListAsync(_tenant, CancellationToken.None).FirstAsync();
        return (status.State, row);
    }

    private static List<KeyValuePair<string, string>> UnsubscribeReply(string tenant, string from = "Victim <victim@example.net>", string? sender = null,
        IEnumerable<(string Name, string Value)>? headers = null)
    {
        var fields = InboundPost.ParsedReply(from: from, recipient: "reply@" + tenant, strippedText: "Please unsubscribe me.", extraHeaders: headers);
        if (sender is not null)
        {
            fields.RemoveAll(f => f.Key == "sender");
            fields.Add(new("sender", sender));
        }

        return fields;
    }

    /// <summary>
    /// Anyone can mail the reply address with any From: a reply that answers no message we sent to that address and that
    /// Mailgun did not authenticate for the From domain is stored for review and logged, and changes no DND.
    /// </summary>
    [Test]
    public async Task A_forged_unsubscribe_reply_cannot_silence_an_address()
    {
        using var app = new AppServices(_storage, Now);
        await Reply(app, UnsubscribeReply(_tenant));

        var (state, row) = await UnsubscribeOutcome(app, "victim@example.net");
        Assert.Multiple(() =>
        {
            Assert.That(state, Is.EqualTo(DndState.None));
            Assert.That(row.GetString("Unsubscribe"), Is.EqualTo("Please unsubscribe me."), "the request is kept");
            Assert.That(row.GetString("UnsubscribeState"), Is.EqualTo("review"));
            Assert.That(app.Logs.Entries.Count(e => e.Text.Contains("stored for review", StringComparison.Ordinal)), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task A_reply_threaded_to_a_message_sent_to_its_sender_unsubscribes_it()
    {
        using var app = new AppServices(_storage, Now);
        await Deliver(app, "victim@example.net");
        await Reply(app, UnsubscribeReply(_tenant));

        var (state, row) = await UnsubscribeOutcome(app, "victim@example.net");
        Assert.That((state, row.GetString("UnsubscribeState"), row.GetString("SenderVerifiedBy")), Is.EqualTo((DndState.Permanent, "applied", "threaded")));
    }

    [Test]
    public async Task A_reply_threaded_to_a_message_sent_to_someone_else_is_only_stored_for_review()
    {
        using var app = new AppServices(_storage, Now);
        await Deliver(app, "jane@example.org");
        await Reply(app, UnsubscribeReply(_tenant));

        var (state, row) = await UnsubscribeOutcome(app, "victim@example.net");
        Assert.That((state, row.GetString("UnsubscribeState")), Is.EqualTo((DndState.None, "review")));
    }

    [Test]
    public async Task An_unthreaded_reply_that_Mailgun_authenticated_for_the_From_domain_unsubscribes_it()
    {
        using var app = new AppServices(_storage, Now);
        await Reply(app, UnsubscribeReply(_tenant, headers: [("X-Mailgun-Dkim-Check-Result", "Pass"), ("DKIM-Signature", "v=1; a=rsa-sha256; d=example.net; s=s1; h=from:to:subject; bh=x; b=y")]));

        var (state, row) = await UnsubscribeOutcome(app, "victim@example.net");
        Assert.That((state, row.GetString("UnsubscribeState"), row.GetString("SenderVerifiedBy")), Is.EqualTo((DndState.Permanent, "applied", "dkim")));
    }

    [TestCase("X-Mailgun-Spf", "Pass", "attacker@evil.example", TestName = "SPF passed for the envelope sender's domain, not the From domain")]
    [TestCase("X-Mailgun-Dkim-Check-Result", "Pass", null, TestName = "DKIM passed for a signature of another domain")]
    [TestCase("X-Mailgun-Spf", "SoftFail", null, TestName = "SPF soft fail")]
    public async Task Authentication_that_does_not_cover_the_From_domain_is_not_enough(string header, string value, string? sender)
    {
        using var app = new AppServices(_storage, Now);
        await Reply(app, UnsubscribeReply(_tenant, sender: sender,
            headers: [(header, value), ("DKIM-Signature", "v=1; a=rsa-sha256; d=evil.example; s=s1; h=from; bh=x; b=y")]));

        var (state, row) = await UnsubscribeOutcome(app, "victim@example.net");
        Assert.That((state, row.GetString("UnsubscribeState")), Is.EqualTo((DndState.None, "review")));
    }

    /// <summary>A sender can put its own Mailgun-looking headers next to Mailgun's: a header that says "pass" or "no spam" only counts when every copy of it agrees.</summary>
    [Test]
    public async Task A_forged_pass_next_to_Mailguns_fail_does_not_authenticate()
    {
        using var app = new AppServices(_storage, Now);
        await Reply(app, UnsubscribeReply(_tenant, headers:
        [
            ("X-Mailgun-Dkim-Check-Result", "Pass"), ("X-Mailgun-Dkim-Check-Result", "Fail"),
            ("DKIM-Signature", "v=1; a=rsa-sha256; d=example.net; s=s1; h=from; bh=x; b=y"),
        ]));

        var (state, row) = await UnsubscribeOutcome(app, "victim@example.net");
        Assert.That((state, row.GetString("UnsubscribeState")), Is.EqualTo((DndState.None, "review")));
    }

    [Test]
    public async Task A_spam_flag_counts_when_any_copy_of_the_header_says_yes()
    {
        using var app = new AppServices(_storage, Now);
        await Deliver(app, "victim@example.net");
        // The sender's own "No" comes first; Mailgun's verdict is the other copy.
        await Reply(app, UnsubscribeReply(_tenant, headers: [("X-Mailgun-Sflag", "No"), ("X-Mailgun-Sflag", "Yes")]));

        var (state, row) = await UnsubscribeOutcome(app, "victim@example.net");
        Assert.That((state, row.GetBoolean("IsSpam"), row.GetString("UnsubscribeState")), Is.EqualTo((DndState.None, (bool?)true, "spam")));
    }

    [Test]
    public async Task A_raw_mime_reply_with_a_forged_no_above_the_spam_flag_sets_nothing()
    {
        using var app = new AppServices(_storage, Now);
        await Deliver(app, "jane@example.org");
        string mime = InboundMessages.PlainReply("Unsubscribe").Replace("X-Mailgun-Sflag: No\r\n", "X-Mailgun-Sflag: No\r\nX-Mailgun-Sflag: Yes\r\n", StringComparison.Ordinal);
        await Reply(app, InboundPost.RawMime(mime, "reply@" + Domain));

        var (state, row) = await UnsubscribeOutcome(app, "jane@example.org");
        Assert.That((state, row.GetBoolean("IsSpam")), Is.EqualTo((DndState.None, (bool?)true)));
    }

    [Test]
    public async Task A_bounce_report_of_a_delivered_message_is_a_hard_bounce_of_its_recipient()
    {
        using var app = new AppServices(_storage, Now);
        await Deliver(app, "gone@example.net");
        await Reply(app, InboundPost.RawMime(InboundMessages.Dsn("gone@example.net"), "reply@" + Domain, from: "MAILER-DAEMON@mx1.example.net"));

        var (_, status) = await app.Get<DndStore>().GetStatusAsync(_tenant, "gone@example.net", CancellationToken.None);
        Assert.That(status.State, Is.EqualTo(DndState.Permanent));
    }

    [Test]
    public async Task A_forged_bounce_report_cannot_silence_an_address()
    {
        // Anyone can mail the reply address. One report returns no message we sent; the other returns a real one (sent to
        // jane) but names another address: neither may put the address it names in DND.
        using var app = new AppServices(_storage, Now);
        await Reply(app, InboundPost.RawMime(InboundMessages.Dsn("victim@example.net"), "reply@" + Domain, from: "MAILER-DAEMON@mx1.example.net"));
        await Deliver(app);
        await Reply(app, InboundPost.RawMime(InboundMessages.Dsn("victim@example.net"), "reply@" + Domain, from: "MAILER-DAEMON@mx2.example.net"));

        var (entry, status) = await app.Get<DndStore>().GetStatusAsync(_tenant, "victim@example.net", CancellationToken.None);
        var replies = await app.Get<ReplyStore>().ListAsync(_tenant, CancellationToken.None).ToListAsync();
        Assert.Multiple(() =>
        {
            Assert.That((entry, status.State), Is.EqualTo(((DndEntry?)null, DndState.None)));
            Assert.That(replies.Select(r => r.GetString("Kind")), Is.EqualTo(new[] { "Bounce", "Bounce" }), "both stored for people to read");
            Assert.That(app.Logs.Entries.Count(e => e.Text.Contains("changes no DND", StringComparison.Ordinal)), Is.EqualTo(2));
        });
    }
}
