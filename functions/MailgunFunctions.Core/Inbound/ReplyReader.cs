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
    /// <summary>The headers the reader looks at (classification, threading, spam, sender authentication, automatic replies).</summary>
    public static readonly IReadOnlySet<string> HeadersRead = new HashSet<string>(
        ["Content-Type", "From", "Subject", "Date", "Message-Id", "In-Reply-To", "References", "X-Mailgun-Sflag", "X-Mailgun-Sscore",
            .. SenderAuthentication.HeadersRead, .. AutoReplyDetector.HeadersRead],
        StringComparer.OrdinalIgnoreCase);

    /// <summary>Mailgun's fields holding the text of the reply, kept up to <see cref="InboundOptions.MaxFieldChars"/>.</summary>
    private static readonly HashSet<string> TextFields = new(StringComparer.OrdinalIgnoreCase) { "body-plain", "stripped-text", "body-html", "stripped-html" };

    /// <summary>Mailgun's own fields about the envelope and the message (besides the headers it also posts as fields).</summary>
    private static readonly HashSet<string> EnvelopeFields = new(StringComparer.OrdinalIgnoreCase) { "recipient", "sender", "from", "subject" };

    /// <summary>A header is kept up to this many characters: real ones are a few KB (long References, DKIM signatures).</summary>
    public const int MaxHeaderChars = 64 * 1024;

    /// <summary>
    /// <c>message-headers</c> (every header as JSON) is kept up to this many characters; the headers read are also posted as
    /// fields of their own, so a cut JSON loses nothing the reader needs.
    /// </summary>
    public const int MaxMessageHeadersChars = 1024 * 1024;

    /// <summary>What processing keeps of a post: the fields this reader reads, each bounded; everything else is skipped.</summary>
    public static InboundFormSelection Selection(int maxTextChars) => new(
        name => TextFields.Contains(name) ? maxTextChars
            : name.Equals("message-headers", StringComparison.OrdinalIgnoreCase) ? MaxMessageHeadersChars
            : EnvelopeFields.Contains(name) || HeadersRead.Contains(name) ? MaxHeaderChars
            : 0,
        ExtractBodyMime: true);

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
        // Every copy of a header: from message-headers, and the fields Mailgun posts per header (a sender may add its own copies).
        IReadOnlyList<string> Headers(string name) =>
            [.. headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value), .. form.Values(name)];
        string? Header(string name) => Headers(name) is [var first, ..] ? first : null;

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
            InReplyTo = ReplyAddress.MessageIds(Header("In-Reply-To")) is [var inReplyTo, ..] ? inReplyTo : null,
            References = ReplyAddress.MessageIds(Header("References")),
            NewText = text,
            TextSource = source,
            Attachments = form.Attachments.Select(a => new ReplyAttachment(a.FileName, a.Size)).ToArray(),
            AttachmentCount = form.AttachmentCount,
        };
        return Classify(record, Headers, form, IsDeliveryReport(Header("Content-Type")), deliveryStatus, ReturnedMessageId(returned));
    }

    private static async Task<ReplyRecord> FromMimeAsync(InboundForm form, Stream mime, ReplyRecord basics, CancellationToken cancellationToken)
    {
        var shape = await MimeLimits.ScanAsync(mime, cancellationToken).ConfigureAwait(false);
        if (shape.Problem is { } problem)
        {
            return await WithinLimitsAsync(form, mime, basics, shape, cancellationToken).ConfigureAwait(false);
        }

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
            IReadOnlyList<string> Headers(string name) =>
                [.. message.Headers.Where(h => h.Field.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value), .. form.Values(name)];

            // The first text parts, decoded only as far as the text readers read (a body can be 25 MB on one line).
            string text;
            string source;
            if (await BodyTextAsync(message, "plain", cancellationToken).ConfigureAwait(false) is { } plain && !string.IsNullOrWhiteSpace(plain))
            {
                text = ReplyText.NewText(plain);
                source = "plain";
            }
            else
            {
                text = ReplyText.NewTextFromHtml(await BodyTextAsync(message, "html", cancellationToken).ConfigureAwait(false));
                source = "html";
            }

            var attachments = new List<ReplyAttachment>();
            int attachmentCount = 0;
            string? deliveryStatus = null;
            string? returnedMessageId = null;
            foreach (var part in message.BodyParts)
            {
                if (part is MessageDeliveryStatus status)
                {
                    deliveryStatus = await DecodeTextAsync(status, 64 * 1024, cancellationToken).ConfigureAwait(false);
                }
                else if (part is MessagePart { Message: { } returned })
                {
                    // message/rfc822 and text/rfc822-headers (a MessagePart in MimeKit) both carry the returned headers.
                    returnedMessageId = ReplyAddress.TrimAngles(returned.MessageId);
                }
                else if (part is MimePart { IsAttachment: true } file && ++attachmentCount <= InboundForm.MaxAttachmentsKept)
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
                AttachmentCount = attachmentCount,
            };
            // MimeKit keeps the top-level Content-Type on the body entity, not in message.Headers.
            bool isReport = message.Body is MultipartReport report
                && string.Equals(report.ReportType, "delivery-status", StringComparison.OrdinalIgnoreCase);
            return Classify(record, Headers, form, isReport, deliveryStatus, returnedMessageId);
        }
    }

    private static ReplyRecord Classify(ReplyRecord record, Func<string, IReadOnlyList<string>> headers, InboundForm form, bool isReport, string? deliveryStatus, string? returnedMessageId)
    {
        string? header(string name) => headers(name) is [var first, ..] ? first : null;
        // A sender can add its own "X-Mailgun-Sflag: No" beside Mailgun's verdict: any copy saying Yes makes it spam, and
        // the highest score counts.
        bool isSpam = headers("X-Mailgun-Sflag").Any(v => v.Trim().Equals("Yes", StringComparison.OrdinalIgnoreCase));
        double? score = headers("X-Mailgun-Sscore")
            .Select(v => double.TryParse(v.Trim(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double s) && double.IsFinite(s) ? s : (double?)null)
            .Max();
        record = record with
        {
            IsSpam = isSpam,
            SpamScore = score,
            SenderAuthenticatedBy = SenderAuthentication.VerifiedBy(headers, record.From, form.Values("sender")),
        };

        if (isReport || IsMailSystem(record.From) || form.Values("sender").Any(IsMailSystem))
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

    /// <summary>
    /// The headers of <c>message-headers</c> (a JSON array of [name, value] pairs, in order) that the reader looks at, read as a
    /// stream: a field cut at its limit, or broken, gives the pairs before the cut, and the rest comes from the per-header fields.
    /// </summary>
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
            if (!reader.Read() || reader.TokenType != JsonToken.StartArray)
            {
                return headers;
            }

            while (reader.Read() && reader.TokenType == JsonToken.StartArray)
            {
                string? name = reader.ReadAsString(), value = reader.ReadAsString();
                if (name is not null && value is not null && HeadersRead.Contains(name))
                {
                    headers.Add((name, value.Length > MaxHeaderChars ? value[..MaxHeaderChars] : value));
                }

                while (reader.TokenType != JsonToken.EndArray && reader.Read())
                {
                    // A pair with more than two items: skip the rest.
                }
            }
        }
        catch (JsonException)
        {
            // A broken or cut message-headers field is not fatal: Mailgun also posts every header as its own field.
        }

        return headers;
    }

    /// <summary>
    /// A raw MIME message over <see cref="MimeLimits"/>: MimeKit is not given its parts. The reply is read from the top-level
    /// headers (when they are within the limits) and Mailgun's own fields, marked with the limit it broke; the raw payload
    /// keeps every byte for a person to read.
    /// </summary>
    private static async Task<ReplyRecord> WithinLimitsAsync(InboundForm form, Stream mime, ReplyRecord basics, MimeLimits.Shape shape, CancellationToken cancellationToken)
    {
        HeaderList headers = [];
        if (shape.TopHeadersWithinLimits)
        {
            try
            {
                headers = await HeaderList.LoadAsync(ParserOptions.Default, mime, cancellationToken).ConfigureAwait(false);
            }
            catch (FormatException)
            {
                // Unreadable headers: Mailgun's fields still name the sender and the subject.
            }
        }

        IReadOnlyList<string> Headers(string name) =>
            [.. headers.Where(h => h.Field.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value), .. form.Values(name)];
        string? Header(string name) => Headers(name) is [var first, ..] ? first : null;
        var record = basics with
        {
            From = ReplyAddress.Address(Header("From") ?? form["from"]),
            Subject = Header("Subject") ?? form["subject"],
            Date = ParseDate(Header("Date")),
            MessageId = ReplyAddress.TrimAngles(Header("Message-Id")),
            InReplyTo = ReplyAddress.MessageIds(Header("In-Reply-To")) is [var inReplyTo, ..] ? inReplyTo : null,
            References = ReplyAddress.MessageIds(Header("References")),
            TextSource = "none",
            ReadLimit = shape.Problem,
        };
        return Classify(record, Headers, form, IsDeliveryReport(Header("Content-Type")), deliveryStatus: null, returnedMessageId: null);
    }

    /// <summary>The first text/plain (or text/html) part that is no attachment, decoded up to what the text readers read.</summary>
    private static async Task<string?> BodyTextAsync(MimeMessage message, string subtype, CancellationToken cancellationToken)
    {
        var part = message.BodyParts.OfType<TextPart>().FirstOrDefault(p => !p.IsAttachment && p.ContentType.IsMimeType("text", subtype));
        return part is null ? null : await DecodeTextAsync(part, ReplyText.MaxCharsRead, cancellationToken).ConfigureAwait(false);
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

    /// <summary>The content of a part as text in its charset (UTF-8 when unknown), at most <paramref name="maxChars"/> characters.</summary>
    private static async Task<string> DecodeTextAsync(MimePart part, int maxChars, CancellationToken cancellationToken)
    {
        if (part.Content is null)
        {
            return "";
        }

        await using var decoded = part.Content.Open();
        using var reader = new StreamReader(decoded, part.ContentType.CharsetEncoding ?? System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        char[] buffer = new char[Math.Min(maxChars, 64 * 1024)];
        var text = new System.Text.StringBuilder();
        int read;
        while (text.Length < maxChars && (read = await reader.ReadAsync(buffer.AsMemory(0, Math.Min(buffer.Length, maxChars - text.Length)), cancellationToken).ConfigureAwait(false)) > 0)
        {
            text.Append(buffer, 0, read);
        }

        return text.ToString();
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
