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
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MailgunFunctions.Telemetry;

namespace MailgunFunctions.Ingestion;

/// <summary>
/// The whole job of the events webhook, without the Functions host: the tenant the URL names, bounded read, JSON,
/// that tenant's signature, freshness, required fields, replay defence, queueing. Answers 200 only once the event is
/// durable on the queue, with the tenant in its envelope.
/// </summary>
public sealed class EventWebhookIntake
{

    private readonly WebhookAuthenticator _authenticator;
    private readonly TenantDirectory _tenants;
    private readonly ReplayGuard _replayGuard;
    private readonly EventQueue _queue;
    private readonly WebhookOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<EventWebhookIntake> _logger;
    private readonly MailgunMetrics _metrics;
    private readonly TenantShards _shards;

    public EventWebhookIntake(
        WebhookAuthenticator authenticator,
        TenantDirectory tenants,
        ReplayGuard replayGuard,
        EventQueue queue,
        IOptions<WebhookOptions> options,
        TimeProvider time,
        ILogger<EventWebhookIntake> logger,
        MailgunMetrics metrics,
        TenantShards shards)
    {
        _metrics = metrics;
        _shards = shards;
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

        if (tenant.Tenant.MovingTo is { } movingTo)
        {
            return Reject(IntakeResult.TenantMoving(tenant.Tenant.Shard, movingTo));
        }

        return await QueueAsync(prepared, tenant.Tenant.Shard, started, cancellationToken).ConfigureAwait(false);
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

        int offset = span.StartsWith(EventBodyScanner.Utf8Bom) ? EventBodyScanner.Utf8Bom.Length : 0;
        Span<byte> timestamp = stackalloc byte[EventBodyScanner.MaxTimestampLength];
        Span<byte> token = stackalloc byte[EventBodyScanner.MaxTokenLength];
        Span<byte> signature = stackalloc byte[EventBodyScanner.SignatureHexLength];
        Span<byte> parentSignature = stackalloc byte[EventBodyScanner.SignatureHexLength];
        var scan = new EventBodyScanner.Findings();
        try
        {
            EventBodyScanner.Scan(span[offset..], ref scan, timestamp, token, signature, parentSignature);
        }
        catch (JsonException ex)
        {
            return new(IntakeResult.MalformedJson(ex.Message));
        }

        if (!scan.SignatureIsObject)
        {
            return new(IntakeResult.SignatureMissing("the body has no 'signature' object"));
        }

        if (scan.TokenLength == EventBodyScanner.TooLong || scan.TimestampLength == EventBodyScanner.TooLong)
        {
            return new(IntakeResult.SignatureMalformed("'signature.timestamp' or 'signature.token' is too long"));
        }

        if (scan.TimestampLength == 0 || scan.TokenLength == 0 || scan.SignatureLength == 0)
        {
            return new(IntakeResult.SignatureMissing("'signature' needs 'timestamp', 'token' and 'signature' strings"));
        }

        IntakeResult? rejection = IntakeResult.SignatureInvalid;
        WebhookAuthentication? authentication = scan.SignatureLength == EventBodyScanner.TooLong ? null
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

    /// <summary>
    /// Two storage requests: the token claim, then the send. A retry with the same token and body (after a 503, or a
    /// Mailgun duplicate) is queued again: processing is idempotent (history keyed by event, entries merged as a join),
    /// so a second copy changes nothing, while marking each claim "queued" after the send would cost a third request on
    /// every event to save work on rare retries. The inbound webhook does mark, because its duplicates are expensive.
    /// Both requests go to the tenant's shard (its token table and events queue), so a shard's webhooks load only it.
    /// </summary>
    private async Task<IntakeResult> QueueAsync(PreparedEvent prepared, int shard, long started, CancellationToken cancellationToken)
    {
        var header = prepared.Header!;
        var (replayGuard, queue) = (_replayGuard, _queue);
        try
        {
            if (shard != 0)
            {
                var services = _shards.Services(shard);
                (replayGuard, queue) = (services.GetRequiredService<ReplayGuard>(), services.GetRequiredService<EventQueue>());
            }

            var claim = await replayGuard.ClaimAsync(header.Token, header.BodySha256, header.EventId, header.SignedAt, header.ReceivedAt, cancellationToken).ConfigureAwait(false);
            if (claim == TokenClaim.BodyMismatch)
            {
                IngestionLog.TokenReplayed(_logger, ReplayGuard.KeyOf(header.Token)[..16], header.EventId);
                return Reject(IntakeResult.TokenReplayed);
            }

            await queue.SendAsync(prepared, cancellationToken).ConfigureAwait(false);
        }
        catch (ShardNotConfiguredException ex)
        {
            // A configuration error, not the event's: 503, so Mailgun retries once the shard is configured.
            IngestionLog.StorageUnavailable(_logger, ex, header.EventType, header.EventId);
            return IntakeResult.StorageUnavailable;
        }
        catch (Exception ex) when (StorageFailure.Is(ex, cancellationToken))
        {
            IngestionLog.StorageUnavailable(_logger, ex, header.EventType, header.EventId);
            return IntakeResult.StorageUnavailable;
        }

        Log(header, IntakeResult.Accepted, started);
        _metrics.EventAccepted(header.Tenant ?? "", header.EventType);
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
