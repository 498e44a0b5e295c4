using MailgunFunctions.Dnd;
using MailgunFunctions.Storage;
using MailgunFunctions.Tenants;
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
    ILogger<InboundProcessor> logger)
{
    /// <summary>Long References chains are mostly old history; the messages we sent are near the end.</summary>
    private const int MaxThreadLookups = 10;

    private static readonly HashSet<string> NotKept = new(StringComparer.OrdinalIgnoreCase) { "body-mime" };

    /// <summary>Processes the message; returns the stored reply, or null when the message went to poison.</summary>
    public async Task<ReplyRecord?> ProcessAsync(string queueMessageId, string messageText, CancellationToken cancellationToken)
    {
        try
        {
            var envelope = InboundEnvelope.Deserialize(messageText);
            var reply = await ReadAsync(envelope, cancellationToken).ConfigureAwait(false);
            reply = await ThreadAsync(reply, cancellationToken).ConfigureAwait(false);
            bool added = await store.AddAsync(reply, cancellationToken).ConfigureAwait(false);
            int bounces = await ActAsync(reply, cancellationToken).ConfigureAwait(false);
            InboundLog.Processed(logger, reply.ReplyId[..16], reply.Tenant, reply.Kind, reply.IsThreaded, reply.UnsubscribeLine is not null, bounces, added ? "new" : "already stored");
            return reply;
        }
        catch (InboundFormatException ex)
        {
            InboundLog.Poisoned(logger, queueMessageId, ex.Reason, ex.Message);
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
            var selection = new InboundFormSelection(name => !NotKept.Contains(name), options.Value.MaxFieldChars, ExtractBodyMime: true);
            form = await InboundForm.ReadAsync(payload, envelope.ContentType, selection, cancellationToken).ConfigureAwait(false);
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

    private async Task<ReplyRecord> ThreadAsync(ReplyRecord reply, CancellationToken cancellationToken)
    {
        foreach (string messageId in reply.ThreadCandidates().Take(MaxThreadLookups))
        {
            if (await outbound.FindAsync(reply.Tenant, messageId, cancellationToken).ConfigureAwait(false) is { } sent)
            {
                return reply with { OutboundMessageId = sent.MessageId, ContactId = sent.ContactId, OutboundRecipient = sent.Recipient };
            }
        }

        return reply;
    }

    private async Task<int> ActAsync(ReplyRecord reply, CancellationToken cancellationToken)
    {
        int bounces = 0;
        if (reply.Kind == ReplyKind.Bounce)
        {
            foreach (var status in reply.DeliveryStatus.Where(s => s.IsPermanentFailure))
            {
                // Anyone can mail the reply address a report naming any address: only a report that returns a message we
                // sent, and names that message's recipient, may bounce it. Others are stored for people to read.
                if (reply.OutboundRecipient is not { Length: > 0 } recipient
                    || !string.Equals(DndKeys.NormalizeAddress(recipient), DndKeys.NormalizeAddress(status.Address), StringComparison.Ordinal))
                {
                    InboundLog.BounceReportNotApplied(logger, reply.ReplyId[..16], reply.Tenant, reply.IsThreaded ? "names another address than the returned message's recipient" : "returns no message we sent");
                    continue;
                }

                await dnd.ApplyHardBounceFromDsnAsync(reply.Tenant, status.Address, status.Status, status.Diagnostic, reply.SourceId, reply.ReceivedAt, cancellationToken).ConfigureAwait(false);
                bounces++;
            }
        }
        else if (reply.Kind == ReplyKind.Human && reply.UnsubscribeLine is { } line && reply.From is { } from)
        {
            if (reply.IsSpam)
            {
                // A spam-flagged message may forge From: it must not silence the contact it names.
                InboundLog.SpamUnsubscribeIgnored(logger, reply.ReplyId[..16]);
            }
            else
            {
                await dnd.ApplyUnsubscribeFromReplyAsync(reply.Tenant, from, line, reply.SourceId, reply.ReceivedAt, cancellationToken).ConfigureAwait(false);
            }
        }

        return bounces;
    }
}
