using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MailgunFunctions.Events;
using MailgunFunctions.Webhooks;

namespace MailgunFunctions.Ingestion;

/// <summary>
/// The events webhook's single pass over the JSON body (Utf8JsonReader, no document built): the signature's three
/// strings copied into the caller's buffers, and what the intake checks before queueing (event-data's place in the
/// body, event type, id and timestamp, domain and account for a parent-signed event). Strict where a lax reader would
/// let a body mean two things (duplicate properties, unpaired surrogate escapes, depth).
/// </summary>
internal static class EventBodyScanner
{
    public const int MaxJsonDepth = 64;
    public const int MaxTokenLength = WebhookAuthenticator.MaxTokenLength;
    public const int MaxTimestampLength = 32;
    public const int SignatureHexLength = 64;
    public const int TooLong = -1;
    public static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>What one pass over the body found. Lengths of -1 mean "present but too long".</summary>
    internal struct Findings
    {
        public bool SignatureIsObject;
        public int TimestampLength;
        public int TokenLength;
        public int SignatureLength;
        public int ParentSignatureLength;
        public int EventDataStart;
        public int EventDataLength;
        public string? EventType;
        public string? EventId;
        public double? EventTimestamp;
        public string? DomainName;
        public string? AccountId;
    }

    public static void Scan(ReadOnlySpan<byte> json, ref Findings scan, Span<byte> timestamp, Span<byte> token, Span<byte> signature, Span<byte> parentSignature)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxJsonDepth, CommentHandling = JsonCommentHandling.Disallow });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("the body is not a JSON object");
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            // Duplicate top-level names: the last one wins, as in every JSON reader the processor uses.
            if (NameIs(ref reader, "signature"u8))
            {
                reader.Read();
                scan.SignatureIsObject = reader.TokenType == JsonTokenType.StartObject;
                scan.TimestampLength = scan.TokenLength = scan.SignatureLength = scan.ParentSignatureLength = 0;
                if (scan.SignatureIsObject)
                {
                    ScanSignature(ref reader, ref scan, timestamp, token, signature, parentSignature);
                }
                else
                {
                    reader.Skip();
                }
            }
            else if (NameIs(ref reader, "event-data"u8))
            {
                reader.Read();
                scan.EventDataLength = 0;
                scan.EventType = scan.EventId = scan.DomainName = scan.AccountId = null;
                scan.EventTimestamp = null;
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    int start = (int)reader.TokenStartIndex;
                    ScanEventData(ref reader, ref scan);
                    scan.EventDataStart = start;
                    scan.EventDataLength = (int)reader.BytesConsumed - start;
                }
                else
                {
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        // Anything after the object (other than white space) makes the reader throw here.
        while (reader.Read())
        {
        }
    }

    private static void ScanSignature(ref Utf8JsonReader reader, ref Findings scan, Span<byte> timestamp, Span<byte> token, Span<byte> signature, Span<byte> parentSignature)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (NameIs(ref reader, "timestamp"u8))
            {
                reader.Read();
                scan.TimestampLength = CopyScalar(ref reader, timestamp);
            }
            else if (NameIs(ref reader, "token"u8))
            {
                reader.Read();
                scan.TokenLength = CopyScalar(ref reader, token);
            }
            else if (NameIs(ref reader, "signature"u8))
            {
                reader.Read();
                scan.SignatureLength = CopyScalar(ref reader, signature);
            }
            else if (NameIs(ref reader, "parent-signature"u8))
            {
                reader.Read();
                scan.ParentSignatureLength = Math.Max(0, CopyScalar(ref reader, parentSignature));
            }
            else
            {
                reader.Read();
            }

            reader.Skip();
        }
    }

    private static void ScanEventData(ref Utf8JsonReader reader, ref Findings scan)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (NameIs(ref reader, "event"u8))
            {
                reader.Read();
                scan.EventType = ScalarText(ref reader);
            }
            else if (NameIs(ref reader, "id"u8))
            {
                reader.Read();
                scan.EventId = ScalarText(ref reader);
            }
            else if (NameIs(ref reader, "timestamp"u8))
            {
                reader.Read();
                scan.EventTimestamp = reader.TokenType switch
                {
                    JsonTokenType.Number when reader.TryGetDouble(out double d) => d,
                    JsonTokenType.String when double.TryParse(Text(ref reader), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
                    _ => null,
                };
            }
            else if (NameIs(ref reader, "domain"u8))
            {
                reader.Read();
                scan.DomainName = NestedText(ref reader, "name"u8);
                continue;
            }
            else if (NameIs(ref reader, "account"u8))
            {
                reader.Read();
                scan.AccountId = NestedText(ref reader, "id"u8);
                continue;
            }
            else
            {
                reader.Read();
            }

            reader.Skip();
        }
    }

    /// <summary>A string (unescaped) or number as UTF-8 into <paramref name="destination"/>: its length, 0 for other JSON types, -1 when too long.</summary>
    private static int CopyScalar(ref Utf8JsonReader reader, Span<byte> destination)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                // The unescaped text is never longer than the escaped one, so this check is conservative.
                if (reader.HasValueSequence || (reader.ValueSpan.Length > destination.Length && reader.ValueIsEscaped is false))
                {
                    return TooLong;
                }

                try
                {
                    return reader.CopyString(destination);
                }
                catch (ArgumentException)
                {
                    return TooLong;
                }
                catch (InvalidOperationException ex)
                {
                    throw UnpairedSurrogate(ex);
                }

            case JsonTokenType.Number:
                if (reader.ValueSpan.Length > destination.Length)
                {
                    return TooLong;
                }

                reader.ValueSpan.CopyTo(destination);
                return reader.ValueSpan.Length;
            default:
                return 0;
        }
    }

    /// <summary>
    /// <c>{"name": "…"}</c>-style objects (<c>domain.name</c>, <c>account.id</c>): the text of <paramref name="property"/>, or null.
    /// Leaves the reader at the end of the value, whatever its type.
    /// </summary>
    private static string? NestedText(ref Utf8JsonReader reader, ReadOnlySpan<byte> property)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        string? value = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool wanted = NameIs(ref reader, property);
            reader.Read();
            if (wanted)
            {
                value = ScalarText(ref reader);
            }

            reader.Skip();
        }

        return value;
    }

    /// <summary>
    /// <c>event</c> and <c>id</c> exactly as <see cref="MailgunEventParser.IdentityText"/> reads them: a string, or an integer as its
    /// digits; null otherwise (a float or a boolean is no identity).
    /// </summary>
    private static string? ScalarText(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => Text(ref reader),
        JsonTokenType.Number when IsInteger(reader.ValueSpan) => IntegerText(reader.ValueSpan),
        _ => null,
    };

    /// <summary>A JSON number without fraction or exponent: Newtonsoft reads it as an integer (a BigInteger when it is long).</summary>
    private static bool IsInteger(ReadOnlySpan<byte> number) => number.IndexOfAny((byte)'.', (byte)'e', (byte)'E') < 0;

    /// <summary>The integer's digits as Newtonsoft prints it: "-0" is 0.</summary>
    private static string IntegerText(ReadOnlySpan<byte> number) =>
        System.Numerics.BigInteger.Parse(Encoding.ASCII.GetString(number), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture);

    /// <summary>Whether the property name is <paramref name="name"/>; a name with an unpaired surrogate escape is malformed JSON.</summary>
    private static bool NameIs(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        try
        {
            return reader.ValueTextEquals(name);
        }
        catch (InvalidOperationException ex)
        {
            throw UnpairedSurrogate(ex);
        }
    }

    /// <summary>The unescaped text of a string token; an unpaired surrogate escape is malformed JSON, not an exception.</summary>
    private static string Text(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException ex)
        {
            throw UnpairedSurrogate(ex);
        }
    }

    /// <summary>
    /// "\ud800" alone (or a low surrogate first) is valid JSON syntax but no UTF-16 text: the reader only finds out when it
    /// unescapes, so every string the single pass reads goes through here and the body is answered 400 like any malformed JSON.
    /// </summary>
    private static JsonException UnpairedSurrogate(InvalidOperationException inner) =>
        new("a string holds an unpaired UTF-16 surrogate escape (\\ud800-\\udfff), which is no text", inner);
}
