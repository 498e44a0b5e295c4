using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using MailgunFunctions.Signatures;

namespace MailgunFunctions.Testing;

/// <summary>
/// JSON kept as text, so a generated value can hold what no JSON library writes: unpaired surrogate escapes, duplicate
/// keys, numbers past every limit, nesting past every depth limit.
/// </summary>
public abstract record RawJson
{
    public abstract void WriteTo(StringBuilder text);

    public sealed override string ToString()
    {
        var text = new StringBuilder();
        WriteTo(text);
        return text.ToString();
    }

    /// <summary>A string whose content is already JSON-escaped text (it may hold "\ud800").</summary>
    public sealed record Str(string Escaped) : RawJson
    {
        public override void WriteTo(StringBuilder text) => text.Append('"').Append(Escaped).Append('"');
    }

    /// <summary>A number, true, false or null, written as is.</summary>
    public sealed record Lit(string Literal) : RawJson
    {
        public override void WriteTo(StringBuilder text) => text.Append(Literal);
    }

    public sealed record Arr(IReadOnlyList<RawJson> Items) : RawJson
    {
        public override void WriteTo(StringBuilder text)
        {
            text.Append('[');
            for (int i = 0; i < Items.Count; i++)
            {
                if (i > 0)
                {
                    text.Append(',');
                }

                Items[i].WriteTo(text);
            }

            text.Append(']');
        }
    }

    /// <summary>An object; names are escaped text and may repeat.</summary>
    public sealed record Obj(IReadOnlyList<(string Name, RawJson Value)> Members) : RawJson
    {
        public override void WriteTo(StringBuilder text)
        {
            text.Append('{');
            for (int i = 0; i < Members.Count; i++)
            {
                if (i > 0)
                {
                    text.Append(',');
                }

                text.Append('"').Append(Members[i].Name).Append("\":");
                Members[i].Value.WriteTo(text);
            }

            text.Append('}');
        }

        public Obj With(string name, RawJson value) => new([.. Members.Where(m => m.Name != name), (name, value)]);
    }

    /// <summary>Escapes a .NET string as JSON text (kept exactly: a lone surrogate becomes its \u escape).</summary>
    public static Str Text(string value)
    {
        var escaped = new StringBuilder(value.Length + 8);
        foreach (char c in value)
        {
            if (c is '"' or '\\' || c < 0x20 || char.IsSurrogate(c))
            {
                escaped.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                escaped.Append(c);
            }
        }

        return new Str(escaped.ToString());
    }
}

/// <summary>
/// FsCheck generators of hostile input, aware of the structure the product reads: Mailgun's event webhooks and their
/// queue envelopes, inbound route forms (parsed and raw MIME) and the unsubscribe link. Every field gets, now and then,
/// the wrong type, an unpaired surrogate, a number at or past a limit, a huge string, deep nesting or a duplicate.
/// Samples are drawn with <see cref="Sample{T}"/> from a seed, so every failure names a reproducible case.
/// </summary>
public static class HostileInput
{
    /// <summary>Numbers at and past the limits of every number type a reader may use.</summary>
    public static readonly string[] EdgeNumbers =
    [
        "0", "-0", "1", "-1", "0.0", "1e0", "2147483647", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "18446744073709551616", "9007199254740993", "99999999999999999999999999999999", "1.7976931348623157e308",
        "1.8e308", "1e309", "-1e309", "1e-400", "4.9e-324", "1E+99999", "253402300799", "253402300800", "-62135596800", "1529006854.329574",
        "0.000001", "123456789012345678901234567890.5",
    ];

    /// <summary>Escaped string contents: text, escapes of every kind (unpaired surrogates too), look-alikes of what the product parses.</summary>
    public static Gen<string> EscapedText { get; } = Gen.Frequency(
        (30, Gen.Elements("failed", "delivered", "complained", "unsubscribed", "opened", "clicked", "accepted", "rejected", "stored", "FAILED", "permanent",
            "temporary", "bounce", "suppress-bounce", "generic", "espblock", "old", "550", "5.1.1", "4.2.2", "hard", "soft", "*", "", " ", "null", "true")),
        (30, Gen.Elements("jane@example.net", "Jane <jane@example.net>", "<x@y.example>", "@", "a@", "@b", "a@b@c", "a/b#c?d%e|f@example.net",
            "bounce@mg.example.com", "mg.example.com", "https://storage.example/v3/domains/mg.example.com/messages/k", "2026-03-01T12:00:00Z",
            "=1+1", "'; drop table", "<script>alert(1)</script>", "..", "~erased~x")),
        (25, Gen.Elements("\\ud800", "\\udfff", "\\udc00\\ud800", "x\\ud800y", "\\ud83d\\ude00", "\\ud800\\ud800", "\\u0000", "\\u001f", "\\u2028",
            "\\ufeff", "\\u202e", "\\uffff", "\\u00e9", "\\\"", "\\\\", "\\/", "\\b\\f\\n\\r\\t", "é", "😀", "\u202e", "\u0085", "a\\u0000b")),
        (12, Gen.Choose(0, 40).SelectMany(n => Gen.Elements("a", "b", "@", ".", " ", "-", "%", "|", "/", "\\u0041", "\\ud800").ArrayOf(n)).Select(string.Concat)),
        (2, Gen.Choose(1_000, 80_000).Select(n => new string('h', n))),
        (1, Gen.Elements(300_000, 1_100_000).Select(n => new string('H', n))));

    public static Gen<RawJson> Number { get; } = Gen.Frequency(
        (3, Gen.Elements(EdgeNumbers).Select(n => (RawJson)new RawJson.Lit(n))),
        (1, Gen.Choose(int.MinValue, int.MaxValue).Select(n => (RawJson)new RawJson.Lit(n.ToString(CultureInfo.InvariantCulture)))));

    /// <summary>Any JSON value, shallow, of any type.</summary>
    public static Gen<RawJson> Value { get; } = Gen.Sized(size => AnyValue(Math.Min(size, 3)));

    private static Gen<RawJson> AnyValue(int depth)
    {
        var scalar = Gen.Frequency(
            (4, EscapedText.Select(s => (RawJson)new RawJson.Str(s))),
            (2, Number),
            (1, Gen.Elements("true", "false", "null").Select(s => (RawJson)new RawJson.Lit(s))));
        if (depth <= 0)
        {
            return scalar;
        }

        var inner = AnyValue(depth - 1);
        return Gen.Frequency(
            (24, scalar),
            (4, Gen.Choose(0, 4).SelectMany(n => inner.ArrayOf(n)).Select(items => (RawJson)new RawJson.Arr(items))),
            (4, Gen.Choose(0, 4).SelectMany(n => Gen.Zip(EscapedText, inner).ArrayOf(n)).Select(m => (RawJson)new RawJson.Obj(m.Select(p => (p.Item1, p.Item2)).ToList()))),
            (1, Gen.Elements(5, 20, 45).Select(Nested)));
    }

    /// <summary>Nesting at and past the depth limits (the webhook's is 64, the queue envelope reader's 128).</summary>
    public static Gen<RawJson> TooDeep { get; } = Gen.Elements(62, 63, 64, 65, 127, 128, 129, 1_000).Select(Nested);

    /// <summary>Arrays or objects nested <paramref name="depth"/> deep.</summary>
    public static RawJson Nested(int depth)
    {
        RawJson value = new RawJson.Lit("1");
        for (int i = 0; i < depth; i++)
        {
            value = i % 2 == 0 ? new RawJson.Arr([value]) : new RawJson.Obj([("k", value)]);
        }

        return value;
    }

    /// <summary>Mostly a plausible value, sometimes anything at all.</summary>
    private static Gen<RawJson> Field(Gen<RawJson> plausible) => Gen.Frequency((12, plausible), (1, Value));

    private static Gen<RawJson> Text(params string[] plausible) => Field(Gen.Elements(plausible).Select(s => (RawJson)RawJson.Text(s)));

    /// <summary>An object of the given fields, each present or not, sometimes with extra names and a duplicated one.</summary>
    private static Gen<RawJson> Object(params (string Name, Gen<RawJson> Value, int PercentPresent)[] fields) =>
        from present in Gen.CollectToArray(fields.Select(f => Gen.Choose(1, 100).Select(r => r <= f.PercentPresent)))
        from values in Gen.CollectToArray(fields.Select(f => f.Value))
        from extra in Gen.Choose(0, 3).SelectMany(n => Gen.Zip(EscapedText, Value).ArrayOf(n))
        from duplicate in Gen.Choose(0, 9)
        from duplicateValue in Value
        select (RawJson)new RawJson.Obj(Members(fields, present, values, extra, duplicate, duplicateValue));

    private static List<(string, RawJson)> Members((string Name, Gen<RawJson> Value, int PercentPresent)[] fields, bool[] present, RawJson[] values,
        (string, RawJson)[] extra, int duplicate, RawJson duplicateValue)
    {
        var members = new List<(string, RawJson)>();
        for (int i = 0; i < fields.Length; i++)
        {
            if (present[i])
            {
                members.Add((fields[i].Name, values[i]));
            }
        }

        members.AddRange(extra);
        if (duplicate == 0 && members.Count > 0)
        {
            // A forger's duplicate key: before or after the original.
            members.Insert(duplicateValue.GetHashCode() % 2 == 0 ? 0 : members.Count, (members[0].Item1, duplicateValue));
        }

        return members;
    }

    private static readonly Gen<RawJson> Address = Text("jane@example.net", "Ana.Gomez+promo@Example.ORG", "x@mg.example.com", "q/#?%|@example.net", "Jane <jane@example.net>",
        "\u00e9l\u00e8ve@example.fr", "a@b", "@example.net", "no-at-sign", "");

    private static readonly Gen<RawJson> Timestamp = Field(Gen.Frequency(
        (4, Gen.Choose(0, 100_000).Select(s => (RawJson)new RawJson.Lit((1_772_366_400 - s).ToString(CultureInfo.InvariantCulture) + ".25"))),
        (1, Gen.Choose(0, 100_000).Select(s => (RawJson)RawJson.Text((1_772_366_400 - s).ToString(CultureInfo.InvariantCulture)))),
        (1, Number)));

    /// <summary>A Mailgun <c>event-data</c> object: every field Mailgun sends, each sometimes missing, of the wrong type, hostile or repeated.</summary>
    public static Gen<RawJson> EventData { get; } = Object(
        ("event", Text("failed", "delivered", "complained", "unsubscribed", "opened", "clicked", "accepted", "rejected", "stored", "Failed"), 97),
        ("id", Text("W3X9GVSjQzeGvIvwyrX4Bw", "id-1", "0", ""), 97),
        ("timestamp", Timestamp, 97),
        ("recipient", Address, 90),
        ("recipient-domain", Text("example.net", ""), 50),
        ("severity", Text("permanent", "temporary", "internal"), 50),
        ("reason", Text("bounce", "suppress-bounce", "suppress-unsubscribe", "suppress-complaint", "generic", "greylisted", "espblock", "old"), 50),
        ("log-level", Text("error", "warn", "info"), 40),
        ("envelope", Field(Object(("sender", Text("bounce@mg.example.com", "mg.example.com", "@", ""), 80), ("mail-from", Address, 40),
            ("targets", Address, 40), ("transport", Text("smtp"), 40))), 70),
        ("delivery-status", Field(Object(("code", Field(Gen.Frequency((3, Gen.Elements(550, 552, 421, 450, 605, 606, 607, 498, 30003, 0).Select(c => (RawJson)new RawJson.Lit(c.ToString(CultureInfo.InvariantCulture)))), (1, Number))), 80),
            ("message", Text("5.1.1 The email account that you tried to reach does not exist.", "4.2.2 over quota", "blocked using Spamhaus", "", "550 5.7.26 unauthenticated"), 80),
            ("description", Text("", "Not delivering to previously bounced address"), 50), ("enhanced-code", Text("5.1.1", "4.2.2", "5.7.1", "x.y.z"), 40),
            ("bounce-code", Text("5.1.1"), 20), ("bounce-type", Text("hard", "soft"), 20), ("last-code", Number, 20), ("last-message", Text("timeout"), 20),
            ("attempt-no", Number, 40), ("mx-host", Text("mx.example.net"), 40))), 60),
        ("message", Field(Object(("headers", Field(Object(("message-id", Text("20260301.1@mg.example.com", "<x@y>", ""), 85), ("to", Address, 50),
            ("from", Address, 50), ("subject", Text("Our news"), 50))), 90), ("size", Number, 30))), 80),
        ("tags", Field(Gen.Choose(0, 4).SelectMany(n => EscapedText.ArrayOf(n)).Select(t => (RawJson)new RawJson.Arr(t.Select(x => (RawJson)new RawJson.Str(x)).ToList()))), 50),
        ("user-variables", Field(Gen.Choose(0, 25).SelectMany(n => Gen.Zip(EscapedText, Value).ArrayOf(n)).Select(m => (RawJson)new RawJson.Obj(m.Select(p => (p.Item1, p.Item2)).ToList()))), 50),
        ("flags", Field(Object(("is-delayed-bounce", Field(Gen.Elements("true", "false").Select(b => (RawJson)new RawJson.Lit(b))), 50),
            ("is-test-mode", Field(Gen.Elements("true", "false").Select(b => (RawJson)new RawJson.Lit(b))), 50))), 40),
        ("storage", Field(Object(("url", Text("https://storage.example/v3/domains/mg.example.com/messages/k", "/domains/", "x"), 70), ("key", Text("k"), 30))), 30),
        ("reject", Field(Object(("reason", Text("suppress-bounce", "unknown"), 60), ("description", Text("not a valid address", ""), 60))), 20));

    /// <summary>A signature block: usually valid for the given time and key (so what follows is read), sometimes hostile.</summary>
    public static Gen<RawJson> SignatureBlock(DateTimeOffset signedAt, string key) => Gen.Frequency(
        (8, Gen.Choose(0, 600).Select(s =>
        {
            string timestamp = (signedAt.ToUnixTimeSeconds() - s).ToString(CultureInfo.InvariantCulture), token = SignedWebhook.NewToken();
            return (RawJson)new RawJson.Obj([("timestamp", RawJson.Text(timestamp)), ("token", RawJson.Text(token)), ("signature", RawJson.Text(SignatureVerifier.Sign(key, timestamp, token)))]);
        })),
        (2, Object(("timestamp", Field(Gen.Constant((RawJson)RawJson.Text(signedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)))), 90),
            ("token", Text(SignedWebhook.NewToken()), 90), ("signature", Text(new string('0', 64), "zz"), 90))),
        (1, Value));

    /// <summary>A whole events webhook body: the signature block and the event-data, with the odd extra, duplicate or nesting at the top.</summary>
    public static Gen<string> EventsWebhookBody(DateTimeOffset signedAt, string key) =>
        from signature in SignatureBlock(signedAt, key)
        from data in Gen.Frequency((30, EventData), (3, Value), (1, TooDeep), (1, EventData.Select(d => (RawJson)new RawJson.Obj([("event", RawJson.Text("failed")), ("deep", Nested(70))]))))
        from extra in Gen.Choose(0, 2).SelectMany(n => Gen.Zip(EscapedText, Value).ArrayOf(n))
        from order in Gen.Choose(0, 3)
        select new RawJson.Obj(order switch
        {
            0 => [("event-data", data), ("signature", signature), .. extra.Select(e => (e.Item1, e.Item2))],
            1 => [("signature", signature), ("event-data", data), ("event-data", data)],
            _ => [("signature", signature), .. extra.Select(e => (e.Item1, e.Item2)), ("event-data", data)],
        }).ToString();

    /// <summary>A queue message of the events queue: mostly a well-formed envelope around a generated event, sometimes a hostile envelope.</summary>
    public static Gen<string> EventEnvelopeText { get; } = Gen.Frequency(
        (8, EventData.Select(data => new RawJson.Obj(
        [
            ("v", new RawJson.Lit("1")), ("receivedAt", RawJson.Text("2026-03-01T12:00:00+00:00")), ("token", RawJson.Text(SignedWebhook.NewToken())),
            ("signingKeyId", RawJson.Text("primary")), ("bodySha256", RawJson.Text(new string('0', 64))), ("eventType", RawJson.Text("failed")),
            ("eventId", RawJson.Text("x")), ("eventData", data),
        ]).ToString())),
        (2, Object(("v", Field(Gen.Constant((RawJson)new RawJson.Lit("1"))), 90), ("receivedAt", Text("2026-03-01T12:00:00+00:00", "yesterday"), 80),
            ("token", Text("t"), 80), ("signingKeyId", Text("primary"), 80), ("bodySha256", Text(new string('0', 64)), 80), ("eventType", Text("failed"), 80),
            ("eventId", Text("x"), 80), ("eventData", Field(EventData), 80), ("payloadBlob", Text("2026/03/01/none.json", "../../etc/passwd", ""), 20)).Select(o => o.ToString())),
        (1, Value.Select(v => v.ToString())));

    /// <summary>Text as a .NET string: ordinary, hostile (unpaired surrogates, controls, bidi overrides), long, or huge.</summary>
    public static Gen<string> PlainText { get; } = Gen.Frequency(
        (30, Gen.Elements("Thanks, that works for me.", "Unsubscribe", "Please remove me from your list.", "STOP", "baja", "", " ", "\r\n", "Re: offer",
            "Jane Doe <jane@example.org>", "jane@example.org", "MAILER-DAEMON@mx.example.net", "<>", "=?utf-8?B?w6k=?=", "=?bogus?Q?x?=", "Yes", "No", "Pass", "Fail")),
        (20, Gen.Elements("\ud800", "x\udfffy", "\u0000", "a\u0001b", "\u202eevil", "\ufeff", "é", "😀", "\r", "\n\n\n", "%", "%ZZ", "+", "&", "=", ";",
            "--boundary", "\"quoted\"", "<b>html</b>", "<blockquote>", "Final-Recipient: rfc822; victim@example.net")),
        (10, Gen.Choose(0, 60).SelectMany(n => Gen.Elements("a", " ", "@", "\n", ",", ";", "<", ">", "\ud800", "é").ArrayOf(n)).Select(string.Concat)),
        (2, Gen.Choose(2_000, 100_000).Select(n => new string('b', n))),
        (1, Gen.Constant(new string('B', 1_200_000))));

    /// <summary>Bytes as a form carries them after percent-decoding: UTF-8 of a text, or bytes that are no UTF-8 at all.</summary>
    private static Gen<byte[]> FormBytes { get; } = Gen.Frequency(
        (10, PlainText.Select(t => Encoding.UTF8.GetBytes(t))),
        (1, Gen.Elements<byte[]>([0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF0, 0x28, 0x8C, 0x28], [0xC0, 0xAF], [0x00], [0xE2, 0x82])));

    /// <summary>A generated raw MIME message: hostile headers, odd charsets and transfer encodings, nested and truncated parts, DSN parts.</summary>
    public static Gen<string> Mime { get; } =
        from sender in Gen.Elements("Jane <jane@example.org>", "\"=?utf-8?B?SmFuZQ==?=\" <jane@example.org>", "MAILER-DAEMON@mx.example.net", "<>", "", "a@b@c", "\ud800@example.org")
        from subject in PlainText
        from headers in Gen.Choose(0, 6).SelectMany(n => Gen.Elements("X-Mailgun-Sflag: Yes", "X-Mailgun-Sflag: No", "X-Mailgun-Spf: Pass", "X-Mailgun-Dkim-Check-Result: Pass",
            "DKIM-Signature: v=1; d=example.org; b=x", "Auto-Submitted: auto-replied", "In-Reply-To: <20260303100200.1.ABCDEF@mg.example.com>", "References: <a@b> <c@d>",
            "Message-ID: <m@example.org>", "Date: not a date", "X-Long: " + new string('l', 5000), "Bad Header Without Colon", " continuation first").ArrayOf(n))
        from body in Gen.Frequency(
            (4, PlainText.Select(t => "Content-Type: text/plain; charset=utf-8\r\n\r\n" + t)),
            (1, PlainText.Select(t => "Content-Type: text/plain; charset=x-unknown\r\nContent-Transfer-Encoding: base64\r\n\r\n" + t + "!!!")),
            (1, PlainText.Select(t => "Content-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ<p>" + t + "=\r\n")),
            (2, PlainText.Select(t => "Content-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\n" + t +
                "\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\nFinal-Recipient: rfc822; " + t + "\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n" +
                "--r\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-Id: <" + t + ">\r\n\r\n--r--\r\n")),
            (2, Gen.Choose(1, 8).Select(depth => string.Concat(Enumerable.Range(0, depth).Select(i => $"Content-Type: multipart/mixed; boundary=\"n{i}\"\r\n\r\n--n{i}\r\n"))
                + "Content-Type: text/plain\r\n\r\nnested\r\n" + string.Concat(Enumerable.Range(0, depth).Reverse().Select(i => $"--n{i}--\r\n")))))
        from cut in Gen.Frequency((5, Gen.Constant(-1)), (1, Gen.Choose(0, 400)))
        select Cut($"From: {sender}\r\nSubject: {subject}\r\n" + string.Concat(headers.Select(h => h + "\r\n")) + "MIME-Version: 1.0\r\n" + body, cut);

    private static string Cut(string text, int at) => at < 0 || at >= text.Length ? text : text[..at];

    /// <summary>
    /// The fields of a route post as Mailgun sends them (parsed, or raw MIME in <c>body-mime</c>), every field sometimes
    /// hostile, missing, repeated or joined by strangers, with the signature fields (usually valid) last.
    /// </summary>
    public static Gen<List<KeyValuePair<string, byte[]>>> InboundFields(string recipient, DateTimeOffset signedAt, string key) =>
        from raw in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        from mime in Mime
        from values in Gen.CollectToArray(Enumerable.Range(0, 8).Select(_ => FormBytes))
        from headersJson in Gen.Frequency((3, Gen.Choose(0, 8).SelectMany(n => Gen.Zip(EscapedText, EscapedText).ArrayOf(n))
            .Select(pairs => new RawJson.Arr(pairs.Select(p => (RawJson)new RawJson.Arr([new RawJson.Str(p.Item1), new RawJson.Str(p.Item2)])).ToList()).ToString())), (1, Value.Select(v => v.ToString())))
        from headerNames in Gen.SubListOf("Message-Id", "In-Reply-To", "References", "X-Mailgun-Sflag", "X-Mailgun-Spf", "X-Mailgun-Dkim-Check-Result", "DKIM-Signature",
            "Content-Type", "Auto-Submitted", "Precedence", "Sender", "From", "timestamp", "token")
        from extras in Gen.Choose(0, 4).SelectMany(n => Gen.Zip(PlainText, FormBytes).ArrayOf(n))
        from signedRecipient in Gen.Frequency((12, Gen.Constant(recipient)), (1, PlainText))
        from age in Gen.Choose(0, 300)
        from signature in Gen.Frequency((10, Gen.Constant(true)), (1, Gen.Constant(false)))
        select InboundPost(raw, mime, values, headersJson, headerNames, extras, signedRecipient, signedAt.AddSeconds(-age), key, signature);

    private static List<KeyValuePair<string, byte[]>> InboundPost(bool raw, string mime, byte[][] values, string headersJson, IEnumerable<string> headerNames,
        (string, byte[])[] extras, string recipient, DateTimeOffset signedAt, string key, bool validSignature)
    {
        static KeyValuePair<string, byte[]> F(string name, byte[] value) => new(name, value);
        var fields = new List<KeyValuePair<string, byte[]>> { F("recipient", Encoding.UTF8.GetBytes(recipient)), F("sender", values[0]), F("from", values[1]), F("subject", values[2]) };
        if (raw)
        {
            fields.Add(F("body-mime", Encoding.UTF8.GetBytes(mime)));
        }
        else
        {
            fields.Add(F("body-plain", values[3]));
            fields.Add(F("stripped-text", values[4]));
            fields.Add(F("body-html", values[5]));
            fields.Add(F("message-headers", Encoding.UTF8.GetBytes(headersJson)));
            fields.AddRange(headerNames.Select((name, i) => F(name, values[(6 + i) % values.Length])));
        }

        fields.AddRange(extras.Select(e => F(e.Item1, e.Item2)));
        string timestamp = signedAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), token = SignedWebhook.NewToken();
        fields.Add(F("timestamp", Encoding.UTF8.GetBytes(timestamp)));
        fields.Add(F("token", Encoding.UTF8.GetBytes(token)));
        fields.Add(F("signature", Encoding.UTF8.GetBytes(validSignature ? SignatureVerifier.Sign(key, timestamp, token) : new string('0', 64))));
        return fields;
    }

    /// <summary>
    /// Encodes fields as a route post: urlencoded byte by byte (so values can be bytes that are no UTF-8), or multipart with
    /// the occasional file part (DSN parts among them).
    /// </summary>
    public static Gen<(byte[] Body, string ContentType)> InboundPostBody(string recipient, DateTimeOffset signedAt, string key) =>
        from fields in InboundFields(recipient, signedAt, key)
        from multipart in Gen.Elements(false, true)
        from files in Gen.Choose(0, 3).SelectMany(n => Gen.Zip(Gen.Elements("application/pdf", "message/delivery-status", "text/rfc822-headers", "message/rfc822", "x/y; a=\"", ""), FormBytes).ArrayOf(n))
        select multipart ? Multipart(fields, files) : (UrlEncode(fields), "application/x-www-form-urlencoded");

    private static byte[] UrlEncode(List<KeyValuePair<string, byte[]>> fields)
    {
        var body = new List<byte>();
        foreach (var (name, value) in fields)
        {
            if (body.Count > 0)
            {
                body.Add((byte)'&');
            }

            Percent(body, Encoding.UTF8.GetBytes(name));
            body.Add((byte)'=');
            Percent(body, value);
        }

        return [.. body];
    }

    private static void Percent(List<byte> body, byte[] bytes)
    {
        foreach (byte b in bytes)
        {
            if (b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'-' or (byte)'.' or (byte)'_')
            {
                body.Add(b);
            }
            else
            {
                body.AddRange(Encoding.ASCII.GetBytes("%" + b.ToString("X2", CultureInfo.InvariantCulture)));
            }
        }
    }

    private static (byte[], string) Multipart(List<KeyValuePair<string, byte[]>> fields, (string ContentType, byte[] Content)[] files)
    {
        const string boundary = "----fuzzboundary7MA4YWxkTrZu0gW";
        var body = new List<byte>();
        void Text(string s) => body.AddRange(Encoding.UTF8.GetBytes(s));
        foreach (var (name, value) in fields)
        {
            Text($"--{boundary}\r\nContent-Disposition: form-data; name=\"{name.Replace("\"", "%22", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal)}\"\r\n\r\n");
            body.AddRange(value);
            Text("\r\n");
        }

        for (int i = 0; i < files.Length; i++)
        {
            Text($"--{boundary}\r\nContent-Disposition: form-data; name=\"attachment-{i + 1}\"; filename=\"f{i}\"\r\nContent-Type: {files[i].ContentType}\r\n\r\n");
            body.AddRange(files[i].Content);
            Text("\r\n");
        }

        Text($"--{boundary}--\r\n");
        return ([.. body], "multipart/form-data; boundary=" + boundary);
    }

    /// <summary>Text for the unsubscribe link: a tenant, an address, a contact id or a campaign, ordinary or hostile.</summary>
    public static Gen<string> LinkPart { get; } = Gen.Frequency((3, Gen.Elements("mg.example.com", "joan@example.com", "c-1", "spring", "")), (2, PlainText));

    /// <summary>A form body posted to the unsubscribe link: the two real ones, and anything else.</summary>
    public static Gen<string> UnsubscribeForm { get; } = Gen.Frequency(
        (4, Gen.Elements("List-Unsubscribe=One-Click", "action=unsubscribe", "List-Unsubscribe=One-Click&action=unsubscribe", "action=unsubscribe&action=x",
            "List-Unsubscribe=one-click", "", "%", "%FF%FE=%ED%A0%80", "a=b&&&=&", "action=%75nsubscribe")),
        (1, PlainText));

    /// <summary>Draws <paramref name="count"/> samples of <paramref name="gen"/> for seed <paramref name="seed"/> (the same seed gives the same samples).</summary>
    public static T[] Sample<T>(Gen<T> gen, int seed, int count, int size = 20) =>
        // FsCheck's argument order here is (number of samples, seed, size).
        gen.Sample(count, new Rnd((ulong)seed, 0x9E3779B97F4A7C15UL), size);
}
