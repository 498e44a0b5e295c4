using MailgunFunctions.Dnd;
using MailgunFunctions.Queueing;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailgunFunctions.Inbound;

/// <summary>
/// Processes one <c>mailgun-inbound</c> message: fetch the raw payload, read the reply, thread it, store it, and
/// act on it (a DSN's permanent failures become hard bounces, a human unsubscribe request an unsubscribe DND).
/// Every step is idempotent, so an at-least-once redelivery changes nothing. A message that can never be
/// processed goes to <c>mailgun-inbound-poison</c> at once with its reason; anything else throws and is retried
/// by the host.
/// </summary>
public sealed class InboundProcessor(
    InboundQueue queue,
    ReplyStore store,
    IOutboundMessageLookup outbound,
    IReplyDndActions dnd,
    TenantDirectory tenants,
    IOptions<InboundOptions> options,
    TimeProvider time,
    ILogger<InboundProcessor> logger,
    TenantShards? shards = null,
    StorageShard? shard = null)
{
    /// <summary>Long References chains are mostly old history; the messages we sent are near the end.</summary>
    private const int MaxThreadLookups = 10;

    /// <summary>A report lists its recipients; real ones fail one or a few. More are not looked up (nor acted on).</summary>
    private const int MaxConcernedAddresses = 10;

    /// <summary>
    /// Processes the message; returns the stored reply, or null when the message went to poison or was forwarded to its
    /// tenant's storage shard (the tenant was moved after it was queued: payload and message are stored there again).
    /// </summary>
    public async Task<ReplyRecord?> ProcessAsync(string queueMessageId, string messageText, CancellationToken cancellationToken)
    {
        try
        {
            var envelope = InboundEnvelope.Deserialize(messageText);
            if (shards is not null && await shards.ElsewhereAsync(envelope.Tenant, shard?.Number ?? 0, cancellationToken).ConfigureAwait(false) is { } elsewhere)
            {
                await using (var payload = await queue.DownloadAsync(envelope, cancellationToken).ConfigureAwait(false))
                {
                    await elsewhere.Services.GetRequiredService<InboundQueue>().StoreAndSendAsync(envelope, payload, cancellationToken).ConfigureAwait(false);
                }

                InboundLog.ForwardedToShard(logger, envelope.Tenant ?? "", shard?.Number ?? 0, elsewhere.Number);
                return null;
            }
            var reply = await ReadAsync(envelope, cancellationToken).ConfigureAwait(false);
            reply = Verify(await ThreadAsync(reply, cancellationToken).ConfigureAwait(false));
            bool added = await store.AddAsync(reply, cancellationToken).ConfigureAwait(false);
            if (reply.ReadLimit is { } limit)
            {
                InboundLog.ReadLimited(logger, reply.ReplyId[..16], reply.Tenant, limit);
            }

            int bounces = await ActAsync(reply, cancellationToken).ConfigureAwait(false);
            InboundLog.Processed(logger, reply.ReplyId[..16], reply.Tenant, reply.Kind, reply.IsThreaded, reply.UnsubscribeLine is not null, bounces, added ? "new" : "already stored");
            return reply;
        }
        catch (InboundFormatException ex)
        {
            InboundLog.Poisoned(logger, queueMessageId, ex.Reason, PoisonDetail.Cut(ex.Message));
            await queue.SendToPoisonAsync(queueMessageId, messageText, ex.Reason, ex.Message, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            return null;
        }
    }

    private async Task<ReplyRecord> ReadAsync(InboundEnvelope envelope, CancellationToken cancellationToken)
    {
        await using var payload = await queue.DownloadAsync(envelope, cancellationToken).ConfigureAwait(false);
        InboundForm form;
        try
        {
            form = await InboundForm.ReadAsync(payload, envelope.ContentType, ReplyReader.Selection(options.Value.MaxFieldChars), cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            throw new InboundFormatException("payload_unreadable", "the stored payload is not a readable form: " + ex.Message, ex);
        }

        using (form)
        {
            return await ReplyReader.ReadAsync(form, envelope, await TenantOfAsync(envelope, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The envelope's tenant; for envelopes queued before tenants existed, the tenant that registered the recipient's
    /// domain, else the domain itself (where such replies were kept before).
    /// </summary>
    private async Task<string> TenantOfAsync(InboundEnvelope envelope, CancellationToken cancellationToken)
    {
        if (envelope.Tenant is { Length: > 0 } tenant)
        {
            return tenant;
        }

        string domain = ReplyAddress.DomainOf(envelope.Recipient) ?? throw new InboundFormatException("recipient_missing", "the post names no recipient address");
        return (await tenants.FindByDomainAsync(domain, cancellationToken).ConfigureAwait(false))?.Id ?? domain;
    }

    /// <summary>
    /// Ties the reply to the message it answers. The addresses it concerns (its sender; a report's recipients) are looked up
    /// with each candidate message id: a match is a message we sent to that address (<see cref="ReplyRecord.ConfirmedRecipients"/>),
    /// the only addresses the reply may change. A reply from an address no copy went to (an alias, a forward) is threaded only
    /// when the message had a single recipient, so a batch sharing one message id never lends it another contact.
    /// </summary>
    private async Task<ReplyRecord> ThreadAsync(ReplyRecord reply, CancellationToken cancellationToken)
    {
        var candidates = reply.ThreadCandidates().Take(MaxThreadLookups).ToList();
        var concerned = (reply.Kind == ReplyKind.Bounce ? reply.DeliveryStatus.Select(s => s.Address) : reply.From is { } from ? [from] : [])
            .Select(DndKeys.NormalizeAddress).Where(a => a.Length > 0).Distinct(StringComparer.Ordinal).Take(MaxConcernedAddresses).ToList();
        OutboundMessage? threaded = null;
        var confirmed = new List<string>();
        foreach (string address in concerned)
        {
            foreach (string messageId in candidates)
            {
                if (await outbound.FindAsync(reply.Tenant, messageId, address, cancellationToken).ConfigureAwait(false) is { } sent)
                {
                    confirmed.Add(address);
                    threaded ??= sent;
                    break;
                }
            }
        }

        if (threaded is null)
        {
            foreach (string messageId in candidates)
            {
                var recipients = await outbound.FindRecipientsAsync(reply.Tenant, messageId, 2, cancellationToken).ConfigureAwait(false);
                if (recipients.Count > 0)
                {
                    threaded = recipients.Count == 1 ? recipients[0] : null;
                    break;
                }
            }
        }

        reply = reply with { ConfirmedRecipients = confirmed };
        return threaded is null ? reply : reply with { OutboundMessageId = threaded.MessageId, ContactId = threaded.ContactId, OutboundRecipient = threaded.Recipient };
    }

    public const string UnsubscribeApplied = "applied";
    public const string UnsubscribeReview = "review";
    public const string UnsubscribeSpam = "spam";

    /// <summary>
    /// Anyone can mail the reply address with any From. A human reply's unsubscribe request is acted on only when something
    /// shows it comes from that address: it answers a message we sent to it, or Mailgun authenticated it for the From domain
    /// (<see cref="SenderAuthentication"/>); a spam-flagged one never. Otherwise it is stored for review, visibly.
    /// </summary>
    private static ReplyRecord Verify(ReplyRecord reply)
    {
        string? verifiedBy = reply.From is { } from && reply.ConfirmedRecipients.Contains(DndKeys.NormalizeAddress(from), StringComparer.Ordinal)
            ? "threaded"
            : reply.SenderAuthenticatedBy;
        reply = reply with { SenderVerifiedBy = verifiedBy };
        if (reply.Kind != ReplyKind.Human || reply.UnsubscribeLine is null || reply.From is null)
        {
            return reply;
        }

        return reply with { UnsubscribeState = reply.IsSpam ? UnsubscribeSpam : verifiedBy is not null ? UnsubscribeApplied : UnsubscribeReview };
    }

    private async Task<int> ActAsync(ReplyRecord reply, CancellationToken cancellationToken)
    {
        int bounces = 0;
        if (reply.Kind == ReplyKind.Bounce)
        {
            foreach (var status in reply.DeliveryStatus.Where(s => s.IsPermanentFailure))
            {
                // Anyone can mail the reply address a report naming any address: only a report that returns a message we
                // sent to the address it names may bounce it. Others are stored for people to read.
                if (!reply.ConfirmedRecipients.Contains(DndKeys.NormalizeAddress(status.Address), StringComparer.Ordinal))
                {
                    InboundLog.BounceReportNotApplied(logger, reply.ReplyId[..16], reply.Tenant, reply.IsThreaded ? "names an address the returned message was not sent to" : "returns no message we sent");
                    continue;
                }

                await dnd.ApplyHardBounceFromDsnAsync(reply.Tenant, status.Address, status.Status, status.Diagnostic, reply.SourceId, reply.ReceivedAt, cancellationToken).ConfigureAwait(false);
                bounces++;
            }
        }
        else if (reply.UnsubscribeLine is { } line && reply.From is { } from)
        {
            switch (reply.UnsubscribeState)
            {
                case UnsubscribeApplied:
                    await dnd.ApplyUnsubscribeFromReplyAsync(reply.Tenant, from, line, reply.SourceId, reply.ReceivedAt, cancellationToken).ConfigureAwait(false);
                    break;
                case UnsubscribeSpam:
                    // A spam-flagged message may forge From: it must not silence the contact it names.
                    InboundLog.SpamUnsubscribeIgnored(logger, reply.ReplyId[..16]);
                    break;
                default:
                    InboundLog.UnsubscribeForReview(logger, reply.ReplyId[..16], reply.Tenant);
                    break;
            }
        }

        return bounces;
    }
}
