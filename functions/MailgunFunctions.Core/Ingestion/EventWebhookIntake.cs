using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using MailgunFunctions.Events;
using MailgunFunctions.Queueing;
using MailgunFunctions.Settings;
using MailgunFunctions.Signatures;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using MailgunFunctions.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Ingestion;

/// <summary>
/// The whole job of the events webhook, without the Functions host: the tenant the URL names, bounded read, JSON,
/// that tenant's signature, freshness, required fields, replay defence, queueing. Answers 200 only once the event is
/// durable on the queue, with the tenant in its envelope.
/// </summary>
public sealed class EventWebhookIntake
{
    private const int MaxJsonDepth = 64;
    private const int MaxTokenLength = WebhookAuthenticator.MaxTokenLength;
    private const int MaxTimestampLength = 32;
    private const int SignatureHexLength = 64;
    private const int TooLong = -1;
    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private readonly WebhookAuthenticator _authenticator;
    private readonly TenantDirectory _tenants;
    private readonly ReplayGuard _replayGuard;
    private readonly EventQueue _queue;
    private readonly WebhookOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<EventWebhookIntake> _logger;

    public EventWebhookIntake(
        WebhookAuthenticator authenticator,
        TenantDirectory tenants,
        ReplayGuard replayGuard,
        EventQueue queue,
        IOptions<WebhookOptions> options,
        TimeProvider time,
        ILogger<EventWebhookIntake> logger)
    {
        _authenticator = authenticator;
        _tenants = tenants;
        _replayGuard = replayGuard;
        _queue = queue;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <param name="tenantId">The tenant the URL names; null for the URL without a tenant (the single-account tenant).</param>
    public async Task<IntakeResult> AcceptAsync(string? tenantId, Stream body, long? contentLength, string? contentType, CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        int limit = _options.MaxEventBodyBytes;
        if (contentLength > limit)
        {
            return Reject(IntakeResult.BodyTooLarge(limit));
        }

        if (IsFormContent(contentType))
        {
            return Reject(IntakeResult.UnsupportedMediaType(contentType));
        }

        var (tenant, unknown) = await WebhookTenant.FindAsync(_tenants, tenantId, _logger, cancellationToken).ConfigureAwait(false);
        if (tenant is null)
        {
            return unknown == IntakeResult.StorageUnavailable ? unknown : Reject(unknown!);
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(contentLength ?? 16 * 1024, limit) + 1);
        try
        {
            // Read at most limit + 1 bytes: a chunked body without Content-Length is cut off, never buffered whole.
            int length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        return Reject(IntakeResult.BodyTooLarge(limit));
                    }

                    byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                int read = await body.ReadAsync(buffer.AsMemory(length, Math.Min(buffer.Length, limit + 1) - length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    return Reject(IntakeResult.BodyTooLarge(limit));
                }
            }

            return await AcceptAsync(tenant, buffer.AsMemory(0, length), started, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<IntakeResult> AcceptAsync(ResolvedTenant tenant, ReadOnlyMemory<byte> body, long started, CancellationToken cancellationToken)
    {
        using var prepared = Prepare(tenant, body);
        if (prepared.Rejection is { } rejection)
        {
            return Reject(rejection);
        }

        return await QueueAsync(prepared, started, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The CPU part of the webhook, no I/O: one <see cref="Utf8JsonReader"/> pass validates the JSON and picks out
    /// the signature block and the event's required fields; then signature, freshness, and the envelope, with the
    /// event-data copied through as Mailgun sent it. Public for the benchmarks and the fuzzing tests.
    /// </summary>
    public PreparedEvent Prepare(ResolvedTenant tenant, ReadOnlyMemory<byte> body)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        ReadOnlySpan<byte> span = body.Span;
        if (!Utf8.IsValid(span))
        {
            return new(IntakeResult.MalformedJson("the body is not valid UTF-8"));
        }

        int offset = span.StartsWith(Utf8Bom) ? Utf8Bom.Length : 0;
        Span<byte> timestamp = stackalloc byte[MaxTimestampLength];
        Span<byte> token = stackalloc byte[MaxTokenLength];
        Span<byte> signature = stackalloc byte[SignatureHexLength];
        Span<byte> parentSignature = stackalloc byte[SignatureHexLength];
        var scan = new BodyScan();
        try
        {
            Scan(span[offset..], ref scan, timestamp, token, signature, parentSignature);
        }
        catch (JsonException ex)
        {
            return new(IntakeResult.MalformedJson(ex.Message));
        }

        if (!scan.SignatureIsObject)
        {
            return new(IntakeResult.SignatureMissing("the body has no 'signature' object"));
        }

        if (scan.TokenLength == TooLong || scan.TimestampLength == TooLong)
        {
            return new(IntakeResult.SignatureMalformed("'signature.timestamp' or 'signature.token' is too long"));
        }

        if (scan.TimestampLength == 0 || scan.TokenLength == 0 || scan.SignatureLength == 0)
        {
            return new(IntakeResult.SignatureMissing("'signature' needs 'timestamp', 'token' and 'signature' strings"));
        }

        IntakeResult? rejection = IntakeResult.SignatureInvalid;
        WebhookAuthentication? authentication = scan.SignatureLength == TooLong ? null
            : _authenticator.Authenticate(tenant, timestamp[..scan.TimestampLength], token[..scan.TokenLength], signature[..scan.SignatureLength],
                scan.ParentSignatureLength > 0 ? parentSignature[..scan.ParentSignatureLength] : default, out rejection);
        if (authentication is null)
        {
            return new(rejection ?? IntakeResult.SignatureInvalid);
        }

        if (authentication.ViaParent && !tenant.OwnsDomain(scan.DomainName)
            && !(tenant.Tenant.MailgunAccountId is { Length: > 0 } account && string.Equals(account, scan.AccountId, StringComparison.Ordinal)))
        {
            return new(IntakeResult.ParentSignatureNotForTenant(
                $"only the parent account's key verified, and the event names neither a domain of tenant '{tenant.Id}' (domain.name) nor its Mailgun account (account.id)"));
        }

        if (scan.EventDataLength == 0)
        {
            return new(IntakeResult.EventInvalid("the body has no 'event-data' object"));
        }

        if (MailgunEventParser.RequiredFieldsProblem(scan.EventType, scan.EventId, scan.EventTimestamp) is { } problem)
        {
            return new(IntakeResult.EventInvalid(problem));
        }

        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(span, hash);
        var header = new EnvelopeHeader(authentication.CheckedAt, Encoding.UTF8.GetString(token[..scan.TokenLength]), authentication.Key.Id,
            Convert.ToHexStringLower(hash), scan.EventType!.ToLowerInvariant(), scan.EventId is { Length: > 0 } id ? id : "-")
        {
            SignedAt = authentication.SignedAt,
            Tenant = tenant.Id,
        };
        var eventData = body.Slice(offset + scan.EventDataStart, scan.EventDataLength);

        var output = new PooledBufferWriter(eventData.Length + 1024);
        using (var writer = new Utf8JsonWriter(output))
        {
            EnvelopeCodec.Write(writer, header, eventData.Span, payloadBlob: null);
        }

        return new(header, output.Detach(), output.Written, eventData);
    }

    /// <summary>What one pass over the body found. Lengths of -1 mean "present but too long".</summary>
    private struct BodyScan
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

    private static void Scan(ReadOnlySpan<byte> json, ref BodyScan scan, Span<byte> timestamp, Span<byte> token, Span<byte> signature, Span<byte> parentSignature)
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

    private static void ScanSignature(ref Utf8JsonReader reader, ref BodyScan scan, Span<byte> timestamp, Span<byte> token, Span<byte> signature, Span<byte> parentSignature)
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

    private static void ScanEventData(ref Utf8JsonReader reader, ref BodyScan scan)
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

    /// <summary>
    /// Two storage requests: the token claim, then the send. A retry with the same token and body (after a 503, or a
    /// Mailgun duplicate) is queued again: processing is idempotent (history keyed by event, entries merged as a join),
    /// so a second copy changes nothing, while marking each claim "queued" after the send would cost a third request on
    /// every event to save work on rare retries. The inbound webhook does mark, because its duplicates are expensive.
    /// </summary>
    private async Task<IntakeResult> QueueAsync(PreparedEvent prepared, long started, CancellationToken cancellationToken)
    {
        var header = prepared.Header!;
        try
        {
            var claim = await _replayGuard.ClaimAsync(header.Token, header.BodySha256, header.EventId, header.SignedAt, header.ReceivedAt, cancellationToken).ConfigureAwait(false);
            if (claim == TokenClaim.BodyMismatch)
            {
                IngestionLog.TokenReplayed(_logger, ReplayGuard.KeyOf(header.Token)[..16], header.EventId);
                return Reject(IntakeResult.TokenReplayed);
            }

            await _queue.SendAsync(prepared, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageFailure.Is(ex, cancellationToken))
        {
            IngestionLog.StorageUnavailable(_logger, ex, header.EventType, header.EventId);
            return IntakeResult.StorageUnavailable;
        }

        Log(header, IntakeResult.Accepted, started);
        return IntakeResult.Accepted;
    }

    private static bool IsFormContent(string? contentType) =>
        contentType is not null
        && (contentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
            || contentType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase));


    private IntakeResult Reject(IntakeResult result)
    {
        IngestionLog.Rejected(_logger, result.StatusCode, result.Reason, result.Detail);
        return result;
    }

    private void Log(EnvelopeHeader header, IntakeResult result, long started) =>
        IngestionLog.EventQueued(_logger, header.EventType, header.EventId, header.Tenant ?? "", result.Reason, _time.GetElapsedTime(started).TotalMilliseconds, header.SigningKeyId);
}
