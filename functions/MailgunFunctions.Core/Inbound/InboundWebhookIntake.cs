using System.Security.Cryptography;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using MailgunFunctions.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Inbound;

/// <summary>
/// The whole job of the inbound webhook (Mailgun Routes <c>forward()</c>), without the Functions host: stream the
/// post to a temporary file within the size limit, read the signature fields, verify them with the same rule as
/// the events webhook, refuse replays, store the payload and queue an envelope. Answers 200 only once both are durable.
/// </summary>
public sealed class InboundWebhookIntake
{
    private static readonly HashSet<string> SignatureFields = new(StringComparer.Ordinal) { "timestamp", "token", "signature", "parent-signature", "recipient", "Message-Id" };

    private readonly WebhookAuthenticator _authenticator;
    private readonly TenantDirectory _tenants;
    private readonly ReplayGuard _replayGuard;
    private readonly InboundQueue _queue;
    private readonly InboundOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<InboundWebhookIntake> _logger;
    private readonly TenantShards _shards;

    public InboundWebhookIntake(
        WebhookAuthenticator authenticator,
        TenantDirectory tenants,
        ReplayGuard replayGuard,
        InboundQueue queue,
        IOptions<InboundOptions> options,
        TimeProvider time,
        ILogger<InboundWebhookIntake> logger,
        TenantShards shards)
    {
        _shards = shards;
        _authenticator = authenticator;
        _tenants = tenants;
        _replayGuard = replayGuard;
        _queue = queue;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>The largest body accepted; the App raises the server's own body limit to this.</summary>
    public long MaxRequestBytes => _options.MaxRequestBytes;

    /// <param name="tenantId">The tenant the URL names; null for the URL without a tenant (the single-account tenant).</param>
    public async Task<IntakeResult> AcceptAsync(string? tenantId, Stream body, long? contentLength, string? contentType, CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        long limit = _options.MaxRequestBytes;
        if (contentLength > limit)
        {
            return Reject(IntakeResult.BodyTooLarge(limit));
        }

        if (!InboundForm.IsForm(contentType, out _))
        {
            return Reject(IntakeResult.NotAForm(contentType));
        }

        var (tenant, unknown) = await WebhookTenant.FindAsync(_tenants, tenantId, _logger, cancellationToken).ConfigureAwait(false);
        if (tenant is null)
        {
            return unknown == IntakeResult.StorageUnavailable ? unknown : Reject(unknown!);
        }

        await using var copy = TemporaryFile.Create();
        string? bodySha256 = await CopyWithinLimitAsync(body, copy, limit, cancellationToken).ConfigureAwait(false);
        if (bodySha256 is null)
        {
            return Reject(IntakeResult.BodyTooLarge(limit));
        }

        copy.Seek(0, SeekOrigin.Begin);
        InboundForm form;
        try
        {
            form = await InboundForm.ReadAsync(copy, contentType, new InboundFormSelection(name => SignatureFields.Contains(name) ? 4096 : 0, ExtractBodyMime: false), cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            return Reject(IntakeResult.MalformedForm(ex.Message));
        }

        using (form)
        {
            string? timestamp = form["timestamp"], token = form["token"], signature = form["signature"];
            if (string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(token) || string.IsNullOrEmpty(signature))
            {
                return Reject(IntakeResult.SignatureMissing("the form needs 'timestamp', 'token' and 'signature' fields"));
            }

            var authentication = _authenticator.Authenticate(tenant, timestamp, token, signature, form["parent-signature"], out IntakeResult? rejection);
            if (authentication is null)
            {
                return Reject(rejection!);
            }

            if (string.IsNullOrWhiteSpace(form["recipient"]) || ReplyAddress.DomainOf(form["recipient"]) is not { } recipientDomain)
            {
                return Reject(IntakeResult.InboundInvalid("the form has no 'recipient' address"));
            }

            if (authentication.ViaParent && !tenant.OwnsDomain(recipientDomain))
            {
                return Reject(IntakeResult.ParentSignatureNotForTenant($"only the parent account's key verified, and the recipient's domain is not a domain of tenant '{tenant.Id}'"));
            }

            var envelope = new InboundEnvelope
            {
                ReceivedAt = authentication.CheckedAt,
                SignedAt = authentication.SignedAt,
                Token = token,
                SigningKeyId = authentication.Key.Id,
                BodySha256 = bodySha256,
                ContentType = contentType!,
                PayloadBlob = InboundQueue.PayloadBlobName(authentication.SignedAt, bodySha256),
                Recipient = form["recipient"]!.Trim(),
                Tenant = tenant.Id,
            };
            string messageId = ReplyAddress.TrimAngles(form["Message-Id"]) ?? "(none)";
            if (tenant.Tenant.MovingTo is { } movingTo)
            {
                return Reject(IntakeResult.TenantMoving(tenant.Tenant.Shard, movingTo));
            }

            return await QueueAsync(envelope, tenant.Tenant.Shard, messageId, copy, started, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Claim, store, queue and mark, all in the tenant's shard.</summary>
    private async Task<IntakeResult> QueueAsync(InboundEnvelope envelope, int shard, string messageId, Stream payload, long started, CancellationToken cancellationToken)
    {
        var (replayGuard, queue) = (_replayGuard, _queue);
        try
        {
            if (shard != 0)
            {
                var services = _shards.Services(shard);
                (replayGuard, queue) = (services.GetRequiredService<ReplayGuard>(), services.GetRequiredService<InboundQueue>());
            }

            var claim = await replayGuard.ClaimAsync(envelope.Token, envelope.BodySha256, "inbound:" + messageId, envelope.SignedAt, envelope.ReceivedAt, cancellationToken).ConfigureAwait(false);
            switch (claim)
            {
                case TokenClaim.BodyMismatch:
                    InboundLog.TokenReplayed(_logger, ReplayGuard.KeyOf(envelope.Token)[..16], messageId);
                    return Reject(IntakeResult.TokenReplayed);
                case TokenClaim.AlreadyQueued:
                    Log(envelope, messageId, payload.Length, IntakeResult.Duplicate, started);
                    return IntakeResult.Duplicate;
            }

            await queue.StoreAndSendAsync(envelope, payload, cancellationToken).ConfigureAwait(false);
        }
        catch (ShardNotConfiguredException ex)
        {
            InboundLog.StorageUnavailable(_logger, ex, messageId);
            return IntakeResult.StorageUnavailable;
        }
        catch (Exception ex) when (StorageFailure.Is(ex, cancellationToken))
        {
            InboundLog.StorageUnavailable(_logger, ex, messageId);
            return IntakeResult.StorageUnavailable;
        }

        try
        {
            await replayGuard.MarkQueuedAsync(envelope.Token, envelope.SignedAt, _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageFailure.Is(ex, cancellationToken))
        {
            // Durable already: 200 is right. A Mailgun retry would store and queue it again; processing is idempotent.
            InboundLog.MarkQueuedFailed(_logger, ex, messageId);
        }

        Log(envelope, messageId, payload.Length, IntakeResult.Accepted, started);
        return IntakeResult.Accepted;
    }

    /// <summary>Copies at most <paramref name="limit"/> bytes, hashing on the way; null when the body is longer (a chunked body has no Content-Length).</summary>
    private static async Task<string?> CopyWithinLimitAsync(Stream body, Stream copy, long limit, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            total += read;
            if (total > limit)
            {
                return null;
            }

            hash.AppendData(buffer, 0, read);
            await copy.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        }

        await copy.FlushAsync(cancellationToken).ConfigureAwait(false);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private IntakeResult Reject(IntakeResult result)
    {
        InboundLog.Rejected(_logger, result.StatusCode, result.Reason, result.Detail);
        return result;
    }

    private void Log(InboundEnvelope envelope, string messageId, long bytes, IntakeResult result, long started) =>
        InboundLog.Queued(_logger, messageId, envelope.Tenant ?? "", bytes, result.Reason, _time.GetElapsedTime(started).TotalMilliseconds, envelope.SigningKeyId);
}
