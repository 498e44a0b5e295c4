using System.Globalization;
using System.Net.Http.Headers;
using MailgunFunctions.Signatures;
using Newtonsoft.Json;

namespace MailgunFunctions.Testing;

/// <summary>A file part of a multipart route post.</summary>
public sealed record InboundFile(string Field, string FileName, string ContentType, byte[] Content);

/// <summary>
/// Builds Mailgun route posts (<c>forward()</c>) as Mailgun sends them, encoded by .NET's own HTTP content
/// classes (a real encoder, not ours): urlencoded, or multipart when there are attachments.
/// </summary>
public static class InboundPost
{
    public const string Tenant = "mg.example.com";

    /// <summary>The fields of a parsed route post of a plain reply; change them with <paramref name="change"/>.</summary>
    public static List<KeyValuePair<string, string>> ParsedReply(
        string from = "Jane Doe <jane@example.org>",
        string recipient = "reply@" + Tenant,
        string subject = "Re: Our spring offers",
        string bodyPlain = "Thanks, that works for me.\n\nOn Tue, 3 Mar 2026 at 10:02, Example News <news@mg.example.com> wrote:\n> Our spring offers are here.\n",
        string? strippedText = "Thanks, that works for me.",
        string inReplyTo = "<20260303100200.1.ABCDEF@mg.example.com>",
        string messageId = "<CAF1x2y3@mail.example.org>",
        IEnumerable<(string Name, string Value)>? extraHeaders = null)
    {
        var headers = new List<string[]>
        {
            new[] { "Received", "from mail.example.org by mxa.mailgun.org" },
            new[] { "From", from },
            new[] { "To", recipient },
            new[] { "Subject", subject },
            new[] { "Date", "Tue, 03 Mar 2026 11:15:42 +0100" },
            new[] { "Message-Id", messageId },
            new[] { "In-Reply-To", inReplyTo },
            new[] { "References", "<20260101090000.1.111111@mg.example.com> " + inReplyTo },
            new[] { "Content-Type", "text/plain; charset=\"UTF-8\"" },
        };
        // A header given by the caller replaces the default of the same name.
        var extra = (extraHeaders ?? []).ToList();
        headers.RemoveAll(h => extra.Any(e => e.Name.Equals(h[0], StringComparison.OrdinalIgnoreCase)));
        foreach (var (name, value) in extra)
        {
            headers.Add([name, value]);
        }

        var fields = new List<KeyValuePair<string, string>>
        {
            new("recipient", recipient),
            new("sender", ExtractAddress(from)),
            new("from", from),
            new("subject", subject),
            new("body-plain", bodyPlain),
        };
        if (strippedText is not null)
        {
            fields.Add(new("stripped-text", strippedText));
            fields.Add(new("stripped-signature", ""));
        }

        fields.Add(new("message-headers", JsonConvert.SerializeObject(headers)));
        // Mailgun also posts every header as its own field under its original name.
        foreach (var header in headers)
        {
            fields.Add(new(header[0], header[1]));
        }

        return fields;
    }

    /// <summary>Appends timestamp, token and signature as Mailgun does.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "Signed as in carrying Mailgun's signature, not a signed integer.")]
    public static List<KeyValuePair<string, string>> Signed(IEnumerable<KeyValuePair<string, string>> fields, DateTimeOffset signedAt, string? token = null, string key = TestSettings.SigningKey)
    {
        string timestamp = signedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        token ??= SignedWebhook.NewToken();
        var signed = fields.ToList();
        signed.Add(new("timestamp", timestamp));
        signed.Add(new("token", token));
        signed.Add(new("signature", SignatureVerifier.Sign(key, timestamp, token)));
        return signed;
    }

    public static (byte[] Body, string ContentType) UrlEncoded(IEnumerable<KeyValuePair<string, string>> fields)
    {
        using var content = new FormUrlEncodedContent(fields);
        return (content.ReadAsByteArrayAsync().GetAwaiter().GetResult(), content.Headers.ContentType!.ToString());
    }

    public static (byte[] Body, string ContentType) Multipart(IEnumerable<KeyValuePair<string, string>> fields, IEnumerable<InboundFile> files)
    {
        using var content = new MultipartFormDataContent("----mgboundary" + Guid.NewGuid().ToString("N")[..12]);
        foreach (var (name, value) in fields)
        {
            content.Add(new StringContent(value, System.Text.Encoding.UTF8), name);
        }

        foreach (var file in files)
        {
            var part = new ByteArrayContent(file.Content);
            part.Headers.ContentType = MediaTypeHeaderValue.Parse(file.ContentType);
            content.Add(part, file.Field, file.FileName);
        }

        return (content.ReadAsByteArrayAsync().GetAwaiter().GetResult(), content.Headers.ContentType!.ToString());
    }

    /// <summary>A raw MIME route post (<c>forward("…/mime")</c>): the whole message in one <c>body-mime</c> field.</summary>
    public static List<KeyValuePair<string, string>> RawMime(string mime, string recipient = "reply@" + Tenant, string from = "jane@example.org", string subject = "Re: Our spring offers") =>
    [
        new("recipient", recipient),
        new("sender", from),
        new("from", from),
        new("subject", subject),
        new("body-mime", mime),
    ];

    private static string ExtractAddress(string from)
    {
        int lt = from.IndexOf('<');
        return lt >= 0 ? from[(lt + 1)..from.IndexOf('>', lt)] : from;
    }
}
