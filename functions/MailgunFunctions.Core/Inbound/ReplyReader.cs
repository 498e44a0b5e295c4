using MimeKit;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Inbound;

/// <summary>
/// Turns a stored route post into a <see cref="ReplyRecord"/>: the raw MIME form through MimeKit, the parsed
/// form through Mailgun's fields (headers from <c>message-headers</c>, a JSON array of [name, value] pairs,
/// falling back to the per-header fields Mailgun also posts). Then classifies it: bounce, automatic, human.
/// </summary>
public static class ReplyReader
{
    /// <summary>Reads the reply; throws <see cref="InboundFormatException"/> when the payload can never give one.</summary>
    /// <param name="tenant">The tenant the reply belongs to (its URL's); see InboundProcessor for envelopes queued before tenants.</param>
    public static async Task<ReplyRecord> ReadAsync(InboundForm form, InboundEnvelope envelope, string tenant, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenant);
        if (ReplyAddress.DomainOf(form["recipient"] ?? envelope.Recipient) is null)
        {
            throw new InboundFormatException("recipient_missing", "the post names no recipient address");
        }

        var basics = new ReplyRecord
        {
            ReplyId = envelope.BodySha256,
            Tenant = tenant,
            ReceivedAt = envelope.SignedAt,
            Format = form.BodyMime is null ? "parsed" : "mime",
            To = ReplyAddress.Address(form["recipient"] ?? envelope.Recipient),
            RawBlob = envelope.PayloadBlob,
        };

        return form.BodyMime is { } mime
            ? await FromMimeAsync(form, mime, basics, cancellationToken).ConfigureAwait(false)
            : FromParsedFields(form, basics);
    }

    private static ReplyRecord FromParsedFields(InboundForm form, ReplyRecord basics)
    {
        var headers = MessageHeaders(form["message-headers"]);
        string? Header(string name) =>
            headers.FirstOrDefault(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value ?? form[name];

        string text;
        string source;
        if (!string.IsNullOrWhiteSpace(form["stripped-text"]))
        {
            text = form["stripped-text"]!.Trim();
            source = "mailgun";
        }
        else if (!string.IsNullOrWhiteSpace(form["body-plain"]))
        {
            text = ReplyText.NewText(form["body-plain"]);
            source = "plain";
        }
        else
        {
            text = ReplyText.NewTextFromHtml(form["body-html"] ?? form["stripped-html"]);
            source = "html";
        }

        string? deliveryStatus = form.Attachments.FirstOrDefault(a => a.Text is not null && a.ContentType.Contains("delivery-status", StringComparison.OrdinalIgnoreCase))?.Text;
        string? returned = form.Attachments.FirstOrDefault(a => a.Text is not null && !a.ContentType.Contains("delivery-status", StringComparison.OrdinalIgnoreCase))?.Text;
        if (deliveryStatus is null && IsDeliveryReport(Header("Content-Type")))
        {
            // Without a separate part, Mailgun's parsed form carries the report's text parts in body-plain.
            deliveryStatus = form["body-plain"];
        }

        var record = basics with
        {
            From = ReplyAddress.Address(form["from"] ?? Header("From")),
            Subject = form["subject"] ?? Header("Subject"),
            Date = ParseDate(Header("Date")),
            MessageId = ReplyAddress.TrimAngles(Header("Message-Id")),
            InReplyTo = ReplyAddress.MessageIds(Header("In-Reply-To")).FirstOrDefault(),
            References = ReplyAddress.MessageIds(Header("References")),
            NewText = text,
            TextSource = source,
            Attachments = form.Attachments.Select(a => new ReplyAttachment(a.FileName, a.Size)).ToArray(),
        };
        return Classify(record, Header, form["sender"], IsDeliveryReport(Header("Content-Type")), deliveryStatus, ReturnedMessageId(returned));
    }

    private static async Task<ReplyRecord> FromMimeAsync(InboundForm form, Stream mime, ReplyRecord basics, CancellationToken cancellationToken)
    {
        MimeMessage message;
        try
        {
            // persistent: parts stay in the temporary file instead of being copied into memory (mails reach 25 MB).
            message = await MimeMessage.LoadAsync(ParserOptions.Default, mime, persistent: true, cancellationToken).ConfigureAwait(false);
        }
        catch (FormatException ex)
        {
            throw new InboundFormatException("mime_unreadable", "body-mime is not a MIME message: " + ex.Message, ex);
        }

        using (message)
        {
            string? Header(string name) => message.Headers[name] ?? form[name];

            string text;
            string source;
            if (!string.IsNullOrWhiteSpace(message.TextBody))
            {
                text = ReplyText.NewText(message.TextBody);
                source = "plain";
            }
            else
            {
                text = ReplyText.NewTextFromHtml(message.HtmlBody);
                source = "html";
            }

            var attachments = new List<ReplyAttachment>();
            string? deliveryStatus = null;
            string? returnedMessageId = null;
            foreach (var part in message.BodyParts)
            {
                if (part is MessageDeliveryStatus status)
                {
                    deliveryStatus = await DecodeTextAsync(status, cancellationToken).ConfigureAwait(false);
                }
                else if (part is MessagePart { Message: { } returned })
                {
                    // message/rfc822 and text/rfc822-headers (a MessagePart in MimeKit) both carry the returned headers.
                    returnedMessageId = ReplyAddress.TrimAngles(returned.MessageId);
                }
                else if (part is MimePart { IsAttachment: true } file)
                {
                    attachments.Add(new ReplyAttachment(file.FileName ?? "", await DecodedSizeAsync(file, cancellationToken).ConfigureAwait(false)));
                }
            }

            var record = basics with
            {
                From = message.From.Mailboxes.FirstOrDefault()?.Address.ToLowerInvariant() ?? ReplyAddress.Address(form["from"]),
                Subject = message.Subject ?? form["subject"],
                Date = message.Headers.Contains(HeaderId.Date) ? message.Date : null,
                MessageId = ReplyAddress.TrimAngles(message.MessageId),
                InReplyTo = ReplyAddress.TrimAngles(message.InReplyTo),
                References = message.References.Select(r => ReplyAddress.TrimAngles(r)).OfType<string>().ToArray(),
                NewText = text,
                TextSource = source,
                Attachments = attachments,
            };
            // MimeKit keeps the top-level Content-Type on the body entity, not in message.Headers.
            bool isReport = message.Body is MultipartReport report
                && string.Equals(report.ReportType, "delivery-status", StringComparison.OrdinalIgnoreCase);
            return Classify(record, Header, form["sender"], isReport, deliveryStatus, returnedMessageId);
        }
    }

    private static ReplyRecord Classify(ReplyRecord record, Func<string, string?> header, string? envelopeSender, bool isReport, string? deliveryStatus, string? returnedMessageId)
    {
        bool isSpam = string.Equals(header("X-Mailgun-Sflag")?.Trim(), "Yes", StringComparison.OrdinalIgnoreCase);
        double? score = double.TryParse(header("X-Mailgun-Sscore")?.Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double s) ? s : null;
        record = record with { IsSpam = isSpam, SpamScore = score };

        if (isReport || IsMailSystem(record.From) || IsMailSystem(envelopeSender))
        {
            // Only a real multipart/report is read for recipients: a free-text bounce cannot be trusted to name the right address.
            return record with
            {
                Kind = ReplyKind.Bounce,
                DeliveryStatus = isReport ? DeliveryStatusReport.Parse(deliveryStatus) : [],
                ReturnedMessageId = isReport ? returnedMessageId : null,
            };
        }

        if (AutoReplyDetector.Detect(header, record.Subject, record.NewText) is { } reason)
        {
            return record with { Kind = ReplyKind.AutoReply, AutoReplyReason = reason };
        }

        return record with { Kind = ReplyKind.Human, UnsubscribeLine = UnsubscribeIntent.Find(record.NewText) };
    }

    /// <summary>RFC 3464: a DSN is <c>multipart/report; report-type=delivery-status</c>.</summary>
    private static bool IsDeliveryReport(string? contentType) =>
        contentType is not null
        && ContentType.TryParse(contentType, out var parsed)
        && parsed.IsMimeType("multipart", "report")
        && string.Equals(parsed.Parameters["report-type"], "delivery-status", StringComparison.OrdinalIgnoreCase);

    /// <summary>Bounces come from the mail system: MAILER-DAEMON or postmaster, or the null sender "&lt;&gt;".</summary>
    private static bool IsMailSystem(string? address)
    {
        if (address is null)
        {
            return false;
        }

        string trimmed = address.Trim();
        if (trimmed is "<>")
        {
            return true;
        }

        string local = (ReplyAddress.Address(trimmed) ?? trimmed).Split('@')[0];
        return local.Equals("mailer-daemon", StringComparison.OrdinalIgnoreCase) || local.Equals("postmaster", StringComparison.OrdinalIgnoreCase);
    }

    private static List<(string Name, string Value)> MessageHeaders(string? json)
    {
        var headers = new List<(string, string)>();
        if (string.IsNullOrWhiteSpace(json))
        {
            return headers;
        }

        try
        {
            using var reader = new JsonTextReader(new StringReader(json)) { MaxDepth = 8, DateParseHandling = DateParseHandling.None };
            if (JToken.ReadFrom(reader) is JArray pairs)
            {
                foreach (var pair in pairs.OfType<JArray>())
                {
                    if (pair.Count == 2 && pair[0].Type == JTokenType.String && pair[1].Type == JTokenType.String)
                    {
                        headers.Add(((string)pair[0]!, (string)pair[1]!));
                    }
                }
            }
        }
        catch (JsonException)
        {
            // A broken message-headers field is not fatal: Mailgun also posts every header as its own field.
        }

        return headers;
    }

    /// <summary>The Message-Id in the header section of a returned message (text/rfc822-headers or message/rfc822).</summary>
    private static string? ReturnedMessageId(string? returned)
    {
        if (string.IsNullOrEmpty(returned))
        {
            return null;
        }

        try
        {
            using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(returned));
            return ReplyAddress.TrimAngles(HeaderList.Load(stream)[HeaderId.MessageId]);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static DateTimeOffset? ParseDate(string? value) =>
        value is not null && MimeKit.Utils.DateUtils.TryParse(value, out DateTimeOffset date) ? date : null;

    private static async Task<string> DecodeTextAsync(MimePart part, CancellationToken cancellationToken)
    {
        if (part.Content is null)
        {
            return "";
        }

        using var buffer = new MemoryStream();
        await part.Content.DecodeToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)Math.Min(buffer.Length, 64 * 1024));
    }

    private static async Task<long> DecodedSizeAsync(MimePart part, CancellationToken cancellationToken)
    {
        if (part.Content is null)
        {
            return 0;
        }

        using var counter = new MimeKit.IO.MeasuringStream();
        await part.Content.DecodeToAsync(counter, cancellationToken).ConfigureAwait(false);
        return counter.Length;
    }
}
