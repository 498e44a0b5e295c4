using System.Text;
using MailgunFunctions.Inbound;
using MailgunFunctions.Testing;

namespace MailgunFunctions.Tests.Inbound;

/// <summary>Reading replies from both route formats into a <see cref="ReplyRecord"/>, without storage.</summary>
public class ReplyReaderTests
{
    private static readonly DateTimeOffset SignedAt = new(2026, 3, 3, 10, 15, 50, TimeSpan.Zero);

    internal static async Task<ReplyRecord> Read((byte[] Body, string ContentType) post)
    {
        var selection = ReplyReader.Selection(1 << 20);
        using var form = await InboundForm.ReadAsync(new MemoryStream(post.Body), post.ContentType, selection, CancellationToken.None);
        var envelope = new InboundEnvelope
        {
            SignedAt = SignedAt,
            BodySha256 = new string('c', 64),
            PayloadBlob = "2026/03/03/" + new string('c', 64),
            Recipient = "reply@mg.example.com",
            ContentType = post.ContentType,
        };
        return await ReplyReader.ReadAsync(form, envelope, "mg.example.com", CancellationToken.None);
    }

    private static Task<ReplyRecord> ReadMime(string mime) => Read(InboundPost.UrlEncoded(InboundPost.RawMime(mime)));

    [Test]
    public async Task Parsed_plain_reply_gives_every_field()
    {
        var fields = InboundPost.ParsedReply(extraHeaders: [("X-Mailgun-Sflag", "No"), ("X-Mailgun-Sscore", "0.7")]);
        var reply = await Read(InboundPost.UrlEncoded(InboundPost.Signed(fields, SignedAt)));
        Assert.Multiple(() =>
        {
            Assert.That(reply.Tenant, Is.EqualTo("mg.example.com"));
            Assert.That(reply.Format, Is.EqualTo("parsed"));
            Assert.That(reply.From, Is.EqualTo("jane@example.org"));
            Assert.That(reply.To, Is.EqualTo("reply@mg.example.com"));
            Assert.That(reply.Subject, Is.EqualTo("Re: Our spring offers"));
            Assert.That(reply.Date, Is.EqualTo(new DateTimeOffset(2026, 3, 3, 11, 15, 42, TimeSpan.FromHours(1))));
            Assert.That(reply.MessageId, Is.EqualTo("CAF1x2y3@mail.example.org"));
            Assert.That(reply.InReplyTo, Is.EqualTo(InboundMessages.OutboundId));
            Assert.That(reply.References, Is.EqualTo(new[] { "20260101090000.1.111111@mg.example.com", InboundMessages.OutboundId }));
            Assert.That(reply.NewText, Is.EqualTo("Thanks, that works for me."));
            Assert.That(reply.TextSource, Is.EqualTo("mailgun"));
            Assert.That(reply.Kind, Is.EqualTo(ReplyKind.Human));
            Assert.That(reply.UnsubscribeLine, Is.Null);
            Assert.That(reply.IsSpam, Is.False);
            Assert.That(reply.SpamScore, Is.EqualTo(0.7));
            Assert.That(reply.ThreadCandidates(), Is.EqualTo(new[] { InboundMessages.OutboundId, "20260101090000.1.111111@mg.example.com" }));
        });
    }

    [Test]
    public async Task Parsed_reply_without_stripped_text_is_stripped_here()
    {
        var reply = await Read(InboundPost.UrlEncoded(InboundPost.ParsedReply(strippedText: null)));
        Assert.That((reply.NewText, reply.TextSource), Is.EqualTo(("Thanks, that works for me.", "plain")));
    }

    [Test]
    public async Task Parsed_html_only_reply_is_read_from_body_html()
    {
        var fields = InboundPost.ParsedReply(bodyPlain: "", strippedText: null);
        fields.Add(new("body-html", "<div>Send two, please.</div><blockquote>Our spring offers</blockquote>"));
        var reply = await Read(InboundPost.UrlEncoded(fields));
        Assert.That((reply.NewText, reply.TextSource), Is.EqualTo(("Send two, please.", "html")));
    }

    [Test]
    public async Task Multipart_reply_lists_attachment_names_and_sizes()
    {
        var fields = InboundPost.ParsedReply(strippedText: "Order form attached.");
        fields.Add(new("attachment-count", "2"));
        var reply = await Read(InboundPost.Multipart(fields,
        [
            new InboundFile("attachment-1", "order form.pdf", "application/pdf", new byte[70_000]),
            new InboundFile("attachment-2", "photo.jpg", "image/jpeg", new byte[1234]),
        ]));
        Assert.That(reply.Attachments, Is.EqualTo(new[] { new ReplyAttachment("order form.pdf", 70_000), new ReplyAttachment("photo.jpg", 1234) }));
        Assert.That(reply.NewText, Is.EqualTo("Order form attached."));
    }

    [Test]
    public async Task Spam_flag_is_kept()
    {
        var reply = await Read(InboundPost.UrlEncoded(InboundPost.ParsedReply(extraHeaders: [("X-Mailgun-Sflag", "Yes"), ("X-Mailgun-Sscore", "12.5")])));
        Assert.That((reply.IsSpam, reply.SpamScore), Is.EqualTo((true, 12.5)));
    }

    [Test]
    public async Task Raw_mime_plain_reply_is_parsed_with_mimekit_and_stripped()
    {
        var reply = await ReadMime(InboundMessages.PlainReply("Oui, envoyez-moi le catalogue, merci."));
        Assert.Multiple(() =>
        {
            Assert.That(reply.Format, Is.EqualTo("mime"));
            Assert.That(reply.From, Is.EqualTo("jane@example.org"));
            Assert.That(reply.MessageId, Is.EqualTo("CAF1x2y3@mail.example.org"));
            Assert.That(reply.InReplyTo, Is.EqualTo(InboundMessages.OutboundId));
            Assert.That(reply.References, Has.Count.EqualTo(2));
            Assert.That(reply.NewText, Is.EqualTo("Oui, envoyez-moi le catalogue, merci."));
            Assert.That(reply.SpamScore, Is.EqualTo(0.3));
            Assert.That(reply.Kind, Is.EqualTo(ReplyKind.Human));
        });
    }

    [Test]
    public async Task Raw_mime_html_only_reply_is_converted_and_stripped()
    {
        var reply = await ReadMime(InboundMessages.HtmlOnlyReply);
        Assert.That((reply.NewText, reply.TextSource), Is.EqualTo(("Great offer, I'll take two.\nTom", "html")));
    }

    [Test]
    public async Task Raw_mime_attachment_size_is_the_decoded_size()
    {
        var reply = await ReadMime(InboundMessages.ReplyWithAttachment);
        Assert.That(reply.Attachments, Is.EqualTo(new[] { new ReplyAttachment("order.pdf", 78) }));
    }

    [TestCase("Automatische Antwort: Unsere Angebote", "Ich bin bis zum 10. März nicht im Büro.")]
    [TestCase("Respuesta automática: Nuestras ofertas", "Estoy fuera de la oficina hasta el lunes.")]
    [TestCase("Réponse automatique : Nos offres", "Je suis absent jusqu'au 10 mars. Pour toute demande urgente, stop.")]
    public async Task Out_of_office_is_an_auto_reply_and_never_read_for_intent(string subject, string text)
    {
        var reply = await ReadMime(InboundMessages.OutOfOffice(subject, text));
        Assert.Multiple(() =>
        {
            Assert.That(reply.Kind, Is.EqualTo(ReplyKind.AutoReply));
            Assert.That(reply.AutoReplyReason, Is.EqualTo("header Auto-Submitted: auto-replied"));
            Assert.That(reply.UnsubscribeLine, Is.Null);
        });
    }

    [Test]
    public async Task Parsed_out_of_office_recognised_by_its_subject()
    {
        var reply = await Read(InboundPost.UrlEncoded(InboundPost.ParsedReply(subject: "Out of Office: Our spring offers", strippedText: "Back on Monday.")));
        Assert.That((reply.Kind, reply.AutoReplyReason), Is.EqualTo((ReplyKind.AutoReply, "subject")));
    }

    [Test]
    public async Task Raw_mime_dsn_is_a_bounce_naming_the_failed_address()
    {
        var reply = await ReadMime(InboundMessages.Dsn());
        Assert.Multiple(() =>
        {
            Assert.That(reply.Kind, Is.EqualTo(ReplyKind.Bounce));
            Assert.That(reply.DeliveryStatus.Select(s => (s.Address, s.Action, s.Status, s.IsPermanentFailure)),
                Is.EqualTo(new[] { ("gone@example.net", "failed", "5.1.1", true) }));
            Assert.That(reply.DeliveryStatus[0].Diagnostic, Does.Contain("User unknown"));
            Assert.That(reply.ReturnedMessageId, Is.EqualTo(InboundMessages.OutboundId));
            Assert.That(reply.ThreadCandidates().First(), Is.EqualTo(InboundMessages.OutboundId));
        });
    }

    [Test]
    public async Task Parsed_dsn_reads_the_delivery_status_part()
    {
        var fields = InboundPost.ParsedReply(from: "MAILER-DAEMON@mx1.example.net", subject: "Undelivered Mail Returned to Sender",
            strippedText: null, bodyPlain: "This is the mail system at host mx1.example.net.",
            extraHeaders: [("Content-Type", "multipart/report; report-type=delivery-status; boundary=\"x\"")]);
        string status = "Reporting-MTA: dns; mx1.example.net\r\n\r\nFinal-Recipient: rfc822; lost@example.net\r\nAction: failed\r\nStatus: 5.2.1\r\n";
        string returned = $"From: news@mg.example.com\r\nMessage-ID: <{InboundMessages.OutboundId}>\r\nSubject: Our spring offers\r\n\r\n";
        var reply = await Read(InboundPost.Multipart(fields,
        [
            new InboundFile("attachment-1", "details.txt", "message/delivery-status", Encoding.ASCII.GetBytes(status)),
            new InboundFile("attachment-2", "headers.txt", "text/rfc822-headers", Encoding.ASCII.GetBytes(returned)),
        ]));
        Assert.That(reply.Kind, Is.EqualTo(ReplyKind.Bounce));
        Assert.That(reply.ReturnedMessageId, Is.EqualTo(InboundMessages.OutboundId));
        Assert.That(reply.DeliveryStatus.Single(), Is.EqualTo(new RecipientStatus("lost@example.net", "failed", "5.2.1", "")));
    }

    [Test]
    public async Task Mailer_daemon_message_without_a_report_is_a_bounce_without_recipients()
    {
        var reply = await Read(InboundPost.UrlEncoded(InboundPost.ParsedReply(from: "postmaster@example.net", strippedText: "Final-Recipient: rfc822; victim@example.net\nAction: failed\nStatus: 5.1.1")));
        Assert.That((reply.Kind, reply.DeliveryStatus.Count), Is.EqualTo((ReplyKind.Bounce, 0)));
    }

    [TestCase("Please unsubscribe me.")]
    [TestCase("Por favor, darme de baja.")]
    [TestCase("Merci de me désinscrire.")]
    [TestCase("Bitte abmelden.")]
    [TestCase("Quero descadastrar meu e-mail.")]
    public async Task Human_raw_mime_reply_asking_to_unsubscribe_quotes_the_line(string line)
    {
        var reply = await ReadMime(InboundMessages.PlainReply(line + "\r\n\r\nJane"));
        Assert.That((reply.Kind, reply.UnsubscribeLine), Is.EqualTo((ReplyKind.Human, line)));
    }

    [Test]
    public async Task Raw_mime_with_a_20_MB_attachment_is_read_from_disk_not_memory()
    {
        string attachment = Convert.ToBase64String(new byte[20 * 1024 * 1024], Base64FormattingOptions.InsertLineBreaks);
        string mime = InboundMessages.ReplyWithAttachment.Replace(
            "JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxlcgo8PC9Sb290IDEgMCBSPj4KJSVFT0YK", attachment);
        var post = InboundPost.UrlEncoded(InboundPost.RawMime(mime));
        await using var file = TemporaryFile.Create();
        await file.WriteAsync(post.Body);
        file.Seek(0, SeekOrigin.Begin);
        post = default;
        await Read(InboundPost.UrlEncoded(InboundPost.RawMime(InboundMessages.ReplyWithAttachment))); // warm-up

        long before = GC.GetTotalAllocatedBytes(precise: true);
        var selection = ReplyReader.Selection(1 << 20);
        using var form = await InboundForm.ReadAsync(file, "application/x-www-form-urlencoded", selection, CancellationToken.None);
        var envelope = new InboundEnvelope { SignedAt = SignedAt, BodySha256 = new string('c', 64), PayloadBlob = "x", Recipient = "reply@mg.example.com" };
        var reply = await ReplyReader.ReadAsync(form, envelope, "mg.example.com", CancellationToken.None);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        TestContext.Out.WriteLine($"allocated {allocated:N0} bytes reading a {file.Length:N0} byte raw MIME post");
        Assert.That(reply.Attachments.Single(), Is.EqualTo(new ReplyAttachment("order.pdf", 20 * 1024 * 1024)));
        Assert.That(allocated, Is.LessThan(16L * 1024 * 1024));
    }

    [Test]
    public async Task Form_without_a_recipient_can_never_be_processed()
    {
        var fields = InboundPost.ParsedReply().Where(f => f.Key != "recipient").ToList();
        var selection = ReplyReader.Selection(1 << 20);
        var post = InboundPost.UrlEncoded(fields);
        using var form = await InboundForm.ReadAsync(new MemoryStream(post.Body), post.ContentType, selection, CancellationToken.None);
        var envelope = new InboundEnvelope { BodySha256 = new string('c', 64), Recipient = "", PayloadBlob = "x" };
        var ex = Assert.ThrowsAsync<InboundFormatException>(() => ReplyReader.ReadAsync(form, envelope, "mg.example.com", CancellationToken.None));
        Assert.That(ex!.Reason, Is.EqualTo("recipient_missing"));
    }
}
