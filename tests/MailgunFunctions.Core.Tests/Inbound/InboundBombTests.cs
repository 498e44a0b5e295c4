using System.Diagnostics;
using System.Text;
using Azure.Storage.Blobs;
using MailgunFunctions.Inbound;
using MailgunFunctions.Storage;
using MailgunFunctions.Testing;
using MailgunFunctions.Tests.Export;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Newtonsoft.Json;

namespace MailgunFunctions.Tests.Inbound;

/// <summary>
/// MIME bombs through the inbound webhook and its processing, against Azurite: many parts, a huge header, 10,000 header
/// fields, multiparts nested 100 deep, a 25 MB body of one line; in the raw MIME form (<c>body-mime</c>) and in Mailgun's
/// parsed form. Each must be answered clearly (accepted, then stored as a reply; or parked with a reason), keep the raw
/// payload, and stay within a bound on the live managed heap. Memory is asserted (live heap after forced collections,
/// sampled); times are printed for docs/inbound.md, never asserted.
/// </summary>
[NonParallelizable]
[Category("Slow")]
public class InboundBombTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 3, 10, 16, 0, TimeSpan.Zero);

    /// <summary>
    /// The live heap may grow by at most this while one bomb is taken in or processed: a few MB of buffers and the bounded
    /// fields a reply keeps, never the mail (25 MB, which as .NET text would be 50 MB) or one object per part or header.
    /// </summary>
    private const long MaxHeapGrowth = 24L * 1024 * 1024;

    private ServiceProvider _services = null!;
    private string _tenant = "";
    private string _storage = "";

    private string Domain => _tenant + ".example.com";

    [SetUp]
    public async Task SetUp()
    {
        _storage = await Azurite.SharedConnectionStringAsync();
        _tenant = TestTenants.NewId("bomb");
        _services = TestSettings.Services(TestSettings.Configuration(_storage), (s, c) => s.AddMailgunCore(c), new FakeTimeProvider(Now),
            before: TestSettings.RecordReplySeams);
        // Its own tenant (signed with the test signing key), so each bomb's reply row is the only one of its partition.
        await TestTenants.RegisterAsync(_services, _tenant, TestSettings.SigningKey, [Domain]);
    }

    [TearDown]
    public void TearDown() => _services.Dispose();

    /// <summary>A case: how to build the post, the limit the reply must record (null: read whole), and how its stored text starts.</summary>
    private static TestCaseData Case(string name, Func<string, (byte[], string)> build, string? limit, string textStart) =>
        new TestCaseData(name, build, limit, textStart).SetName("Bomb: " + name);

    public static IEnumerable<TestCaseData> Bombs()
    {
        yield return Case("raw MIME: 100,000 parts", r => Mime(r, ManyParts(100_000)), "more than 1000 MIME parts", "");
        yield return Case("raw MIME: a 10 MB header", r => Mime(r, Headers("X-Huge: " + new string('h', 10 * 1024 * 1024) + "\r\n", "Just one header.")), "a header field over 64 KiB", "");
        yield return Case("raw MIME: 10,000 header fields", r => Mime(r, Headers(string.Concat(Enumerable.Range(0, 10_000).Select(i => $"X-Filler-{i}: value {i}\r\n")), "Many headers.")), null, "Many headers.");
        yield return Case("raw MIME: multiparts nested 100 deep", r => Mime(r, Nested(100)), null, "Deep inside.");
        yield return Case("raw MIME: a 25 MB body of one line", r => Mime(r, Headers("", "Unsubscribe " + new string('a', 25 * 1024 * 1024))), null, "Unsubscribe aaaa");
        yield return Case("parsed form: 20,000 attachment parts", r => InboundPost.Multipart(Signed(InboundPost.ParsedReply(recipient: r)),
            Enumerable.Range(0, 20_000).Select(i => new InboundFile($"attachment-{i + 1}", $"f{i}.txt", "text/plain", [(byte)'x']))), null, "Thanks, that works for me.");
        yield return Case("parsed form: 10,000 header fields", r => InboundPost.UrlEncoded(Signed(InboundPost.ParsedReply(recipient: r,
            extraHeaders: Enumerable.Range(0, 10_000).Select(i => ($"X-Filler-{i}", $"value {i}"))))), null, "Thanks, that works for me.");
        yield return Case("parsed form: a 10 MB header", r => InboundPost.UrlEncoded(Signed(InboundPost.ParsedReply(recipient: r,
            extraHeaders: [("X-Huge", new string('h', 10 * 1024 * 1024))]))), null, "Thanks, that works for me.");
        yield return Case("parsed form: a 25 MB body-plain of one line", r => InboundPost.UrlEncoded(Signed(InboundPost.ParsedReply(recipient: r,
            bodyPlain: "Unsubscribe " + new string('a', 25 * 1024 * 1024), strippedText: null))), null, "Unsubscribe aaaa");
        // Text bombs for the readers' regular expressions: unclosed quote blocks in HTML, and a first line of separators.
        yield return Case("parsed form: HTML of 40,000 unclosed blockquotes and styles", r =>
        {
            var fields = InboundPost.ParsedReply(recipient: r, bodyPlain: "", strippedText: null);
            fields.Add(new("body-html", "<p>Unsubscribe</p>" + string.Concat(Enumerable.Repeat("<blockquote><style x", 40_000)) + "<div " + new string('a', 100_000)));
            return InboundPost.UrlEncoded(Signed(fields));
        }, null, "Unsubscribe");
        yield return Case("parsed form: a first line of 100,000 commas", r => InboundPost.UrlEncoded(Signed(InboundPost.ParsedReply(recipient: r,
            strippedText: "please" + string.Concat(Enumerable.Repeat(", ", 100_000)) + "x"))), null, "please, ,");
    }

    [TestCaseSource(nameof(Bombs))]
    public async Task A_bomb_is_answered_stored_and_kept_within_bounded_memory(string name, Func<string, (byte[] Body, string ContentType)> build, string? limit, string textStart)
    {
        var (body, contentType) = build("reply@" + Domain);
        var intake = _services.GetRequiredService<InboundWebhookIntake>();

        var clock = Stopwatch.StartNew();
        var (answer, intakeBaseline, intakePeak) = await LiveHeapPeak.MeasureAsync(() =>
            intake.AcceptAsync(_tenant, new MemoryStream(body, writable: false), body.Length, contentType, CancellationToken.None));
        var intakeTime = clock.Elapsed;
        Assert.That((answer.StatusCode, answer.Reason), Is.EqualTo((200, "accepted")), answer.Detail);

        // The envelope the webhook queued, processed as the queue function does.
        var envelope = await NextEnvelopeAsync();
        var processor = _services.GetRequiredService<InboundProcessor>();
        clock.Restart();
        var (reply, baseline, peak) = await LiveHeapPeak.MeasureAsync(() => processor.ProcessAsync("bomb", InboundEnvelope.Serialize(envelope), CancellationToken.None));
        var processingTime = clock.Elapsed;

        TestContext.Out.WriteLine(FormattableString.Invariant(
            $"{name}: {body.Length / 1048576.0:F1} MB posted; webhook {intakeTime.TotalSeconds:F2} s, live heap +{(intakePeak - intakeBaseline) / 1048576.0:F1} MB; processing {processingTime.TotalSeconds:F2} s, live heap +{(peak - baseline) / 1048576.0:F1} MB"));
        var rows = await _services.GetRequiredService<ReplyStore>().ListAsync(_tenant, CancellationToken.None).ToListAsync();
        bool rawKept = (await new BlobContainerClient(_storage, StorageNames.InboundRawContainer).GetBlobClient(envelope.PayloadBlob).ExistsAsync()).Value;
        Assert.Multiple(() =>
        {
            Assert.That(reply, Is.Not.Null, "stored as a reply, not parked");
            Assert.That(rows, Has.Count.EqualTo(1), "one reply row");
            Assert.That(rows[0].GetString("ReadLimit"), Is.EqualTo(limit), "the limit the message broke, recorded on the reply");
            Assert.That(rows[0].GetString("Text") ?? "", Does.StartWith(textStart), "what should be read is read");
            if (name.Contains("attachment parts", StringComparison.Ordinal))
            {
                Assert.That(rows[0].GetInt32("AttachmentCount"), Is.EqualTo(20_000), "every part counted, though only the first are listed");
            }
            Assert.That(rawKept, Is.True, "the raw payload is kept whole");
            Assert.That(intakePeak - intakeBaseline, Is.LessThan(MaxHeapGrowth), "webhook live heap growth");
            Assert.That(peak - baseline, Is.LessThan(MaxHeapGrowth), "processing live heap growth");
        });
    }

    private async Task<InboundEnvelope> NextEnvelopeAsync()
    {
        var queue = new Azure.Storage.Queues.QueueClient(_storage, StorageNames.InboundQueue, new Azure.Storage.Queues.QueueClientOptions { MessageEncoding = Azure.Storage.Queues.QueueMessageEncoding.Base64 });
        while (true)
        {
            foreach (var m in (await queue.ReceiveMessagesAsync(32)).Value)
            {
                await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
                var envelope = InboundEnvelope.Deserialize(m.Body.ToString());
                if (envelope.Recipient.EndsWith(Domain, StringComparison.Ordinal))
                {
                    return envelope;
                }
            }
        }
    }

    private static List<KeyValuePair<string, string>> Signed(List<KeyValuePair<string, string>> fields) => InboundPost.Signed(fields, Now.AddSeconds(-30));

    private static (byte[], string) Mime(string recipient, string mime) =>
        InboundPost.UrlEncoded(Signed(InboundPost.RawMime(mime, recipient)));

    private const string Top =
        "From: Jane <jane@example.org>\r\nTo: reply@example.com\r\nSubject: Re: offer\r\nDate: Tue, 03 Mar 2026 11:15:42 +0100\r\n" +
        "Message-ID: <bomb@example.org>\r\nIn-Reply-To: <20260303100200.1.ABCDEF@mg.example.com>\r\nMIME-Version: 1.0\r\n";

    private static string Headers(string extra, string text) => Top + extra + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n";

    private static string ManyParts(int parts)
    {
        var mime = new StringBuilder(Top).Append("Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nThe reply.\r\n");
        for (int i = 0; i < parts; i++)
        {
            mime.Append("--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"p").Append(i).Append("\"\r\n\r\nx\r\n");
        }

        return mime.Append("--b--\r\n").ToString();
    }

    private static string Nested(int depth)
    {
        var mime = new StringBuilder(Top);
        for (int i = 0; i < depth; i++)
        {
            mime.Append("Content-Type: multipart/mixed; boundary=\"n").Append(i).Append("\"\r\n\r\n--n").Append(i).Append("\r\n");
        }

        mime.Append("Content-Type: text/plain\r\n\r\nDeep inside.\r\n");
        for (int i = depth - 1; i >= 0; i--)
        {
            mime.Append("--n").Append(i).Append("--\r\n");
        }

        return mime.ToString();
    }
}
