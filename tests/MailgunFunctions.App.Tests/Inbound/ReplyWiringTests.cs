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

    private async Task Deliver(AppServices app, string recipient = "jane@example.org")
    {
        // The message the reply answers, as Mailgun reports its delivery (message-id without angle brackets).
        var delivered = SignedWebhook.Simple("delivered", recipient, Now.AddHours(-1), domain: Domain);
        delivered["message"]!["headers"]!["message-id"] = InboundMessages.OutboundId;
        delivered["user-variables"] = new JObject { ["contactId"] = "contact-77" };
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

    [Test]
    public async Task An_unsubscribe_reply_puts_the_address_in_dnd_once_with_the_quoted_line()
    {
        using var app = new AppServices(_storage, Now);
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
