using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using MailgunFunctions.Events;
using MailgunFunctions.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace MailgunFunctions.Ingestion;

/// <summary>
/// The whole job of the events webhook, without the Functions host: bounded read, JSON, signature, freshness,
/// required fields, replay defence, queueing. Answers 200 only once the event is durable on the queue.
/// </summary>
public sealed class EventWebhookIntake
{
    private const int MaxJsonDepth = 64;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly WebhookAuthenticator _authenticator;
    private readonly ReplayGuard _replayGuard;
    private readonly EventQueue _queue;
    private readonly WebhookOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<EventWebhookIntake> _logger;

    public EventWebhookIntake(
        WebhookAuthenticator authenticator,
        ReplayGuard replayGuard,
        EventQueue queue,
        IOptions<WebhookOptions> options,
        TimeProvider time,
        ILogger<EventWebhookIntake> logger)
    {
        _authenticator = authenticator;
        _replayGuard = replayGuard;
        _queue = queue;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    public async Task<IntakeResult> AcceptAsync(Stream body, long? contentLength, string? contentType, CancellationToken cancellationToken)
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

            return await AcceptAsync(buffer.AsMemory(0, length), started, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task<IntakeResult> AcceptAsync(ReadOnlyMemory<byte> body, long started, CancellationToken cancellationToken)
    {
        if (!TryParse(body.Span, out JObject? root, out IntakeResult? malformed))
        {
            return Reject(malformed);
        }

        if (root["signature"] is not JObject signature)
        {
            return Reject(IntakeResult.SignatureMissing("the body has no 'signature' object"));
        }

        string? timestamp = MailgunEventParser.Text(signature["timestamp"]);
        string? token = MailgunEventParser.Text(signature["token"]);
        string? presented = MailgunEventParser.Text(signature["signature"]);
        if (string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(token) || string.IsNullOrEmpty(presented))
        {
            return Reject(IntakeResult.SignatureMissing("'signature' needs 'timestamp', 'token' and 'signature' strings"));
        }

        var authentication = _authenticator.Authenticate(timestamp, token, presented, out IntakeResult? rejection);
        if (authentication is null)
        {
            return Reject(rejection!);
        }

        if (root["event-data"] is not JObject eventData)
        {
            return Reject(IntakeResult.EventInvalid("the body has no 'event-data' object"));
        }

        MailgunEvent parsed;
        try
        {
            parsed = MailgunEventParser.Parse(eventData);
        }
        catch (EventFormatException ex)
        {
            return Reject(IntakeResult.EventInvalid(ex.Reason));
        }

        string bodyHash = Convert.ToHexStringLower(SHA256.HashData(body.Span));
        var envelope = new EventEnvelope
        {
            ReceivedAt = authentication.CheckedAt,
            Token = token,
            SigningKeyId = authentication.Key.Id,
            BodySha256 = bodyHash,
            EventType = parsed.EventType,
            EventId = parsed.Id,
            EventData = eventData,
        };
        return await QueueAsync(envelope, started, cancellationToken).ConfigureAwait(false);
    }

    private async Task<IntakeResult> QueueAsync(EventEnvelope envelope, long started, CancellationToken cancellationToken)
    {
        TokenClaim claim;
        try
        {
            claim = await _replayGuard.ClaimAsync(envelope.Token, envelope.BodySha256, envelope.EventId, envelope.ReceivedAt, cancellationToken).ConfigureAwait(false);
            switch (claim)
            {
                case TokenClaim.BodyMismatch:
                    IngestionLog.TokenReplayed(_logger, ReplayGuard.KeyOf(envelope.Token)[..16], envelope.EventId);
                    return Reject(IntakeResult.TokenReplayed);
                case TokenClaim.AlreadyQueued:
                    Log(envelope, IntakeResult.Duplicate, started);
                    return IntakeResult.Duplicate;
            }

            await _queue.SendAsync(envelope, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageFailure.Is(ex, cancellationToken))
        {
            IngestionLog.StorageUnavailable(_logger, ex, envelope.EventType, envelope.EventId);
            return IntakeResult.StorageUnavailable;
        }

        try
        {
            await _replayGuard.MarkQueuedAsync(envelope.Token, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageFailure.Is(ex, cancellationToken))
        {
            // The event is durable; answering 200 is right. A Mailgun retry would queue it again, harmlessly.
            IngestionLog.MarkQueuedFailed(_logger, ex, envelope.EventId);
        }

        Log(envelope, IntakeResult.Accepted, started);
        return IntakeResult.Accepted;
    }

    private static bool TryParse(ReadOnlySpan<byte> body, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out JObject? root, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out IntakeResult? malformed)
    {
        root = null;
        malformed = null;
        string text;
        try
        {
            text = StrictUtf8.GetString(body);
        }
        catch (DecoderFallbackException)
        {
            malformed = IntakeResult.MalformedJson("the body is not valid UTF-8");
            return false;
        }

        try
        {
            using var reader = new JsonTextReader(new StringReader(text))
            {
                MaxDepth = MaxJsonDepth,
                DateParseHandling = DateParseHandling.None,
                FloatParseHandling = FloatParseHandling.Double,
            };
            if (JToken.ReadFrom(reader) is not JObject obj)
            {
                malformed = IntakeResult.MalformedJson("the body is not a JSON object");
                return false;
            }

            while (reader.Read())
            {
                if (reader.TokenType != JsonToken.Comment)
                {
                    malformed = IntakeResult.MalformedJson("unexpected content after the JSON object");
                    return false;
                }
            }

            root = obj;
            return true;
        }
        catch (JsonException ex)
        {
            malformed = IntakeResult.MalformedJson(ex.Message);
            return false;
        }
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

    private void Log(EventEnvelope envelope, IntakeResult result, long started) =>
        IngestionLog.EventQueued(_logger, envelope.EventType, envelope.EventId, result.Reason, _time.GetElapsedTime(started).TotalMilliseconds, envelope.SigningKeyId);
}
